import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Checks that every class, field and method the client jar links to exists, with the same descriptor, in one Spark
 * installation: {@code java clients/spark/tools/LinkCheck.java CLIENT.jar SPARK_JARS_DIR}. Loads the jar's own classes
 * (which resolves their supertypes) and resolves each Fieldref, Methodref and InterfaceMethodref of their constant
 * pools whose owner is neither a JDK class nor in the jar, without initializing anything. Prints one line per missing
 * symbol and exits 1 if there is any; "link check: N references to Spark and Scala resolved" otherwise.
 *
 * <p>Calls made by reflection (SparkCompat) are not in the constant pool and are not checked here: the Spark suites
 * run them.
 */
public final class LinkCheck {
    private LinkCheck() {
    }

    /** One symbolic reference: kind 9 field, 10 method, 11 interface method; owner in internal form. */
    private record Ref(int kind, String owner, String name, String descriptor, String from) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java LinkCheck.java CLIENT.jar SPARK_JARS_DIR");
            System.exit(2);
        }
        List<URL> urls = new ArrayList<>();
        urls.add(Paths.get(args[0]).toUri().toURL());
        try (var files = Files.list(Paths.get(args[1]))) {
            for (Path p : (Iterable<Path>) files.sorted()::iterator) {
                if (p.toString().endsWith(".jar")) {
                    urls.add(p.toUri().toURL());
                }
            }
        }
        Set<String> own = new HashSet<>();
        List<Ref> refs = new ArrayList<>();
        try (JarFile jar = new JarFile(args[0])) {
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements();) {
                JarEntry entry = e.nextElement();
                if (entry.getName().endsWith(".class")) {
                    String name = entry.getName().substring(0, entry.getName().length() - ".class".length());
                    own.add(name);
                    try (InputStream in = jar.getInputStream(entry)) {
                        readReferences(new DataInputStream(in), name, refs);
                    }
                }
            }
        }
        Set<String> problems = new TreeSet<>();
        int checked = 0;
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
            for (String name : own) {
                try {
                    Class.forName(name.replace('/', '.'), false, loader);
                } catch (LinkageError | ClassNotFoundException e) {
                    problems.add("cannot load " + name + ": " + e);
                }
            }
            for (Ref ref : refs) {
                if (own.contains(ref.owner) || isJdk(ref.owner)) {
                    continue;
                }
                checked++;
                String problem = resolve(ref, loader);
                if (problem != null) {
                    problems.add(problem + " (used by " + ref.from + ")");
                }
            }
        }
        problems.forEach(System.out::println);
        if (!problems.isEmpty()) {
            System.out.println("link check: " + problems.size() + " unresolved references");
            System.exit(1);
        }
        System.out.println("link check: " + checked + " references to Spark and Scala resolved");
    }

    private static boolean isJdk(String owner) {
        String o = owner.startsWith("[") ? owner.replaceAll("^\\[+L?", "") : owner;
        return o.startsWith("java/") || o.startsWith("javax/") || o.startsWith("jdk/") || o.startsWith("sun/")
                || o.length() <= 1;
    }

    /** What one class file declares: its supertypes and its fields' and methods' name + descriptor. */
    private record Declared(List<String> supertypes, Set<String> fields, Set<String> methods) {
    }

    private static final java.util.Map<String, Declared> DECLARED = new java.util.HashMap<>();

    /** The declarations of a class, read from its class file through the loader; null when there is none. */
    private static Declared declared(String internalName, ClassLoader loader) throws IOException {
        if (DECLARED.containsKey(internalName)) {
            return DECLARED.get(internalName);
        }
        Declared result = null;
        try (InputStream raw = loader.getResourceAsStream(internalName + ".class")) {
            InputStream in = raw;
            if (in == null) {
                in = ClassLoader.getSystemResourceAsStream(internalName + ".class");
            }
            if (in != null) {
                try (InputStream stream = in) {
                    result = readDeclarations(new DataInputStream(stream), internalName);
                }
            }
        }
        DECLARED.put(internalName, result);
        return result;
    }

    private static String resolve(Ref ref, ClassLoader loader) throws IOException {
        String what = ref.owner + "." + ref.name + ref.descriptor;
        if (ref.owner.startsWith("[")) {
            return null; // array clone(): always there
        }
        if (declared(ref.owner, loader) == null) {
            return "missing class " + ref.owner.replace('/', '.') + " for " + what;
        }
        String member = ref.name + ref.descriptor;
        Deque<String> queue = new ArrayDeque<>(List.of(ref.owner));
        Set<String> seen = new HashSet<>();
        while (!queue.isEmpty()) {
            String c = queue.poll();
            if (!seen.add(c)) {
                continue;
            }
            Declared d = declared(c, loader);
            if (d == null) {
                return "missing class " + c.replace('/', '.') + " (a supertype of " + ref.owner + ") for " + what;
            }
            if ((ref.kind == 9 ? d.fields : d.methods).contains(member)) {
                return null;
            }
            queue.addAll(d.supertypes);
        }
        return "missing " + (ref.kind == 9 ? "field " : "method ") + what;
    }

    /** Reads a class file's supertypes, fields and methods (java/lang/Object's methods count for interfaces too). */
    private static Declared readDeclarations(DataInputStream in, String name) throws IOException {
        String[] utf8 = readPool(in, name, null);
        int[] classNames = CLASS_NAMES.get();
        in.readUnsignedShort();
        in.readUnsignedShort();
        int superIndex = in.readUnsignedShort();
        List<String> supertypes = new ArrayList<>();
        if (superIndex != 0) {
            supertypes.add(utf8[classNames[superIndex]]);
        }
        int interfaces = in.readUnsignedShort();
        for (int i = 0; i < interfaces; i++) {
            supertypes.add(utf8[classNames[in.readUnsignedShort()]]);
        }
        if (superIndex == 0 && !name.equals("java/lang/Object") || interfaces > 0 && superIndex != 0
                && utf8[classNames[superIndex]].equals("java/lang/Object")) {
            supertypes.add("java/lang/Object");
        }
        Set<String> fields = readMembers(in, utf8);
        Set<String> methods = readMembers(in, utf8);
        return new Declared(supertypes, fields, methods);
    }

    private static Set<String> readMembers(DataInputStream in, String[] utf8) throws IOException {
        Set<String> members = new HashSet<>();
        int count = in.readUnsignedShort();
        for (int i = 0; i < count; i++) {
            in.readUnsignedShort();
            String name = utf8[in.readUnsignedShort()];
            members.add(name + utf8[in.readUnsignedShort()]);
            int attributes = in.readUnsignedShort();
            for (int a = 0; a < attributes; a++) {
                in.readUnsignedShort();
                in.skipNBytes(in.readInt() & 0xFFFFFFFFL);
            }
        }
        return members;
    }

    private static final ThreadLocal<int[]> CLASS_NAMES = new ThreadLocal<>();

    /** Reads the constant pool of one class file and adds its field and method references. */
    private static void readReferences(DataInputStream in, String from, List<Ref> out) throws IOException {
        readPool(in, from, out);
    }

    /**
     * Reads a class file's header and constant pool; returns its UTF-8 entries, leaves the class entries' name indexes
     * in CLASS_NAMES and, with {@code out}, adds the field and method references.
     */
    private static String[] readPool(DataInputStream in, String from, List<Ref> out) throws IOException {
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException(from + " is not a class file");
        }
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        int[] classNameIndex = new int[count];
        int[][] nameAndType = new int[count][];
        List<int[]> members = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 3, 4 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++;
                }
                case 7 -> classNameIndex[i] = in.readUnsignedShort();
                case 8, 16, 19, 20 -> in.readUnsignedShort();
                case 9, 10, 11 -> members.add(new int[] {tag, in.readUnsignedShort(), in.readUnsignedShort()});
                case 12 -> nameAndType[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                case 17, 18 -> in.readInt();
                default -> throw new IOException(from + ": unknown constant pool tag " + tag);
            }
        }
        CLASS_NAMES.set(classNameIndex);
        if (out != null) {
            for (int[] m : members) {
                int[] nt = nameAndType[m[2]];
                out.add(new Ref(m[0], utf8[classNameIndex[m[1]]], utf8[nt[0]], utf8[nt[1]], from));
            }
        }
        return utf8;
    }
}
