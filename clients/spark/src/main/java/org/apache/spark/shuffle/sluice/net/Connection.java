package org.apache.spark.shuffle.sluice.net;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.spark.shuffle.sluice.auth.Credential;
import org.apache.spark.shuffle.sluice.protocol.Frame;
import org.apache.spark.shuffle.sluice.protocol.FrameHeader;
import org.apache.spark.shuffle.sluice.protocol.Hello;
import org.apache.spark.shuffle.sluice.protocol.MessageType;
import org.apache.spark.shuffle.sluice.protocol.ProtocolException;
import org.apache.spark.shuffle.sluice.protocol.ResponseHead;
import org.apache.spark.shuffle.sluice.protocol.StatusCode;
import org.apache.spark.shuffle.sluice.protocol.WireReader;

/**
 * One client connection to a Sluice server: a blocking socket with TCP_NODELAY, the hello handshake (role client),
 * request ids from an AtomicLong, writes serialized by a lock, at most {@code maxInFlightRequests} requests awaiting
 * a response (further requests block), and a daemon reader thread that completes each request's future by request
 * id. Every request fails after {@code requestTimeoutMs}; when the connection is lost every pending request fails at
 * once with a {@link ConnectionException}. Thread-safe.
 */
public final class Connection implements AutoCloseable {
    private final String endpoint;
    private final ConnectionSettings settings;
    private final Socket socket;
    private final OutputStream output;
    private final DataInputStream input;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final Map<Long, CompletableFuture<Frame>> pending = new ConcurrentHashMap<>();
    private final Semaphore inFlightPermits;
    private final String serverId;
    private volatile String closeReason;

    private Connection(String host, int port, ConnectionSettings settings, String identity, Credential credential)
            throws IOException {
        this.endpoint = host + ":" + port;
        this.settings = settings;
        this.inFlightPermits = new Semaphore(settings.maxInFlightRequests);
        Socket opened = new Socket();
        try {
            opened.setTcpNoDelay(true);
            opened.setKeepAlive(true);
            opened.connect(new InetSocketAddress(host, port), settings.connectTimeoutMs);
            opened.setSoTimeout(settings.requestTimeoutMs);
            this.socket = opened;
            this.output = new BufferedOutputStream(opened.getOutputStream(), 64 << 10);
            this.input = new DataInputStream(new BufferedInputStream(opened.getInputStream(), 64 << 10));
            this.serverId = handshake(identity, credential);
            opened.setSoTimeout(0);
        } catch (IOException | RuntimeException e) {
            closeQuietly(opened, e);
            if (e instanceof ProtocolException) {
                throw e;
            }
            throw new ConnectionException("cannot connect to " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** Connects, performs the handshake and starts the reader thread. */
    public static Connection open(String host, int port, ConnectionSettings settings, String identity)
            throws IOException {
        return open(host, port, settings, identity, null);
    }

    /**
     * Connects, performs the handshake proving {@code credential} (when not null; the server must then prove the same
     * key back) and starts the reader thread.
     */
    public static Connection open(String host, int port, ConnectionSettings settings, String identity,
                                  Credential credential) throws IOException {
        Connection connection = new Connection(host, port, settings, identity, credential);
        Thread reader = new Thread(connection::readLoop, "sluice-conn-" + connection.endpoint);
        reader.setDaemon(true);
        reader.start();
        return connection;
    }

    private String handshake(String identity, Credential credential) throws IOException {
        long requestId = nextRequestId.getAndIncrement();
        byte[] clientNonce = credential == null ? null : Credential.newNonce();
        byte[] helloBody = Hello.encodeRequest(Hello.ROLE_CLIENT, identity, clientNonce);
        writeFrame(MessageType.HELLO, requestId, helloBody, helloBody.length);
        Frame reply = readHandshakeReply(MessageType.HELLO, requestId);
        Hello.Response hello = Hello.decodeResponse(reply.body);
        hello.head.requireOk("handshake with " + endpoint + " (server version " + hello.version + ")");
        if (credential == null) {
            return hello.serverId;
        }
        if (hello.serverNonce == null) {
            throw new ProtocolException(StatusCode.UNAUTHENTICATED, "server " + endpoint + " does not authenticate"
                    + " peers; a client holding a Sluice secret only talks to servers that prove the cluster secret");
        }
        byte[] proof = credential.peerProof(Hello.ROLE_CLIENT, identity, clientNonce, hello.serverNonce,
                hello.serverId);
        long authRequestId = nextRequestId.getAndIncrement();
        byte[] authBody = Hello.encodeAuthenticate(credential.kind(), proof);
        writeFrame(MessageType.AUTHENTICATE, authRequestId, authBody, authBody.length);
        Frame answer = readHandshakeReply(MessageType.AUTHENTICATE, authRequestId);
        byte[] serverProof = Hello.decodeAuthenticateResponse(answer.body, "authentication with " + endpoint);
        if (!credential.isValidServerProof(serverProof, Hello.ROLE_CLIENT, identity, clientNonce, hello.serverNonce,
                hello.serverId)) {
            throw new ProtocolException(StatusCode.UNAUTHENTICATED,
                    "server " + endpoint + " could not prove the cluster secret");
        }
        return hello.serverId;
    }

    /** The handshake reply to {@code requestId}; a refusal of another type is thrown with its status. */
    private Frame readHandshakeReply(int type, long requestId) throws IOException {
        Frame reply = readFrame();
        if (!reply.isResponse() || reply.requestId != requestId) {
            throw new ProtocolException(StatusCode.MALFORMED, "unexpected handshake reply type 0x"
                    + Integer.toHexString(reply.type) + " from " + endpoint);
        }
        if (reply.type != type) {
            ResponseHead head = ResponseHead.decode(new WireReader(reply.body));
            head.requireOk("handshake with " + endpoint);
            throw new ProtocolException(StatusCode.MALFORMED, "unexpected handshake reply type 0x"
                    + Integer.toHexString(reply.type) + " from " + endpoint);
        }
        return reply;
    }

    private static void closeQuietly(Socket socket, Exception primary) {
        try {
            socket.close();
        } catch (IOException e) {
            primary.addSuppressed(e);
        }
    }

    /** {@code host:port} of the peer. */
    public String endpoint() {
        return endpoint;
    }

    /** The id the server gave in the handshake. */
    public String serverId() {
        return serverId;
    }

    /** False once the connection was closed or broke. */
    public boolean isOpen() {
        return closeReason == null;
    }

    /**
     * Sends a request and returns the future of its response frame. Blocks while {@code maxInFlightRequests} are
     * outstanding (at most {@code requestTimeoutMs}). The future fails with {@link ConnectionException} on
     * connection loss or time-out.
     */
    public CompletableFuture<Frame> request(int type, byte[] body) throws ConnectionException {
        return request(type, body, body.length);
    }

    /**
     * Sends {@code body[0, bodyLength)} as a request, like {@link #request(int, byte[])}. The body is written out
     * before this returns, so the caller may reuse the array at once.
     */
    public CompletableFuture<Frame> request(int type, byte[] body, int bodyLength) throws ConnectionException {
        if (bodyLength < 0 || bodyLength > body.length) {
            throw new IllegalArgumentException("body length " + bodyLength + " of a " + body.length + "-byte array");
        }
        ensureOpen();
        try {
            if (!inFlightPermits.tryAcquire(settings.requestTimeoutMs, TimeUnit.MILLISECONDS)) {
                throw new ConnectionException("no request slot on " + endpoint + " within "
                        + settings.requestTimeoutMs + " ms (" + settings.maxInFlightRequests + " in flight)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted waiting for a request slot on " + endpoint, e);
        }
        long requestId = nextRequestId.getAndIncrement();
        CompletableFuture<Frame> future = new CompletableFuture<>();
        pending.put(requestId, future);
        future.whenComplete((frame, error) -> {
            pending.remove(requestId);
            inFlightPermits.release();
        });
        future.orTimeout(settings.requestTimeoutMs, TimeUnit.MILLISECONDS);
        String reason = closeReason;
        if (reason != null) {
            future.completeExceptionally(new ConnectionException("connection to " + endpoint + " closed: " + reason));
            return future;
        }
        try {
            writeFrame(type, requestId, body, bodyLength);
        } catch (IOException e) {
            fail("write failed: " + e.getMessage());
        }
        return future.handle((frame, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(frame);
            }
            return CompletableFuture.<Frame>failedFuture(translate(error, type));
        }).thenCompose(f -> f);
    }

    /** Sends a request and waits for its response. */
    public Frame call(int type, byte[] body) throws IOException {
        return await(request(type, body), endpoint);
    }

    /** Waits for a request's future, rethrowing its failure as an IOException. */
    public static Frame await(CompletableFuture<Frame> future, String endpoint) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted waiting for " + endpoint, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException) {
                throw (IOException) cause;
            }
            throw new ConnectionException("request to " + endpoint + " failed: " + cause, cause);
        }
    }

    private Throwable translate(Throwable error, int type) {
        Throwable cause = error;
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof TimeoutException) {
            return new ConnectionException("request type 0x" + Integer.toHexString(type) + " to " + endpoint
                    + " timed out after " + settings.requestTimeoutMs + " ms");
        }
        return cause;
    }

    private void ensureOpen() throws ConnectionException {
        String reason = closeReason;
        if (reason != null) {
            throw new ConnectionException("connection to " + endpoint + " closed: " + reason);
        }
    }

    private void writeFrame(int type, long requestId, byte[] body, int bodyLength) throws IOException {
        byte[] header = new FrameHeader(bodyLength, type, 0, requestId).encode();
        writeLock.lock();
        try {
            output.write(header);
            output.write(body, 0, bodyLength);
            output.flush();
        } finally {
            writeLock.unlock();
        }
    }

    private Frame readFrame() throws IOException {
        byte[] header = new byte[FrameHeader.BYTES];
        input.readFully(header);
        FrameHeader decoded = FrameHeader.decode(header, 0, settings.maxFrameBodyBytes);
        byte[] body = new byte[decoded.bodyLength];
        input.readFully(body);
        return new Frame(decoded.type, decoded.flags, decoded.requestId, body);
    }

    private void readLoop() {
        try {
            while (closeReason == null) {
                Frame frame = readFrame();
                if (!frame.isResponse()) {
                    throw new ProtocolException(StatusCode.MALFORMED, "server sent a request frame type 0x"
                            + Integer.toHexString(frame.type));
                }
                CompletableFuture<Frame> future = pending.remove(frame.requestId);
                if (future != null) {
                    future.complete(frame);
                }
                // A response with no pending request belongs to a request that timed out: dropped.
            }
        } catch (EOFException e) {
            fail("closed by " + endpoint);
        } catch (IOException | RuntimeException e) {
            fail(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Marks the connection dead, closes the socket and fails every pending request at once. */
    private void fail(String reason) {
        synchronized (this) {
            if (closeReason == null) {
                closeReason = reason;
            }
        }
        try {
            socket.close();
        } catch (IOException e) {
            reason = reason + " (close: " + e.getMessage() + ")";
        }
        List<CompletableFuture<Frame>> failed = new ArrayList<>(pending.values());
        for (CompletableFuture<Frame> future : failed) {
            future.completeExceptionally(new ConnectionException("connection to " + endpoint + " lost: " + reason));
        }
    }

    /** Closes the socket; pending requests fail. */
    @Override
    public void close() {
        fail("closed by the client");
    }
}
