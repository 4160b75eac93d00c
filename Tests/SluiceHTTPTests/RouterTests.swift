import Testing

@testable import SluiceHTTP

@Suite struct RouterTests {
    private func router() -> HTTPRouter {
        var router = HTTPRouter()
        router.add("GET", "/api/v1/workers") { _ in .text(200, "list") }
        router.add("GET", "/api/v1/workers/{id}") { request in
            .text(200, "worker \(request.pathParameters["id"] ?? "")")
        }
        router.add("GET", "/api/v1/workers/self") { _ in .text(200, "self") }
        router.add("POST", "/api/v1/workers/{id}/decommission") { request in
            .text(202, "draining \(request.pathParameters["id"] ?? "")")
        }
        return router
    }

    private func answer(_ method: String, _ path: String) -> (Int, String) {
        let response = router().respond(to: HTTPRequest(method: method, path: path))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    @Test func exactAndPatternRoutes() {
        #expect(answer("GET", "/api/v1/workers") == (200, "list"))
        #expect(answer("GET", "/api/v1/workers/w-7") == (200, "worker w-7"))
        #expect(answer("POST", "/api/v1/workers/w-7/decommission") == (202, "draining w-7"))
    }

    @Test func literalSegmentsWinOverParameters() {
        #expect(answer("GET", "/api/v1/workers/self") == (200, "self"))
    }

    @Test func unknownPathIs404AndWrongMethodIs405() {
        #expect(answer("GET", "/api/v2/workers").0 == 404)
        #expect(answer("GET", "/api/v1/workers/w-7/decommission").0 == 405)
        let response = router().respond(to: HTTPRequest(method: "DELETE", path: "/api/v1/workers"))
        #expect(response.status == 405)
        #expect(response.headers.contains(HTTPHeader("allow", "GET")))
    }

    @Test func headFallsBackToGet() {
        #expect(answer("HEAD", "/api/v1/workers").0 == 200)
    }
}
