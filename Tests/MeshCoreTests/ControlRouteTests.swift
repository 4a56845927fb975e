import Testing

@testable import MeshCore

/// The control API's one definition: every route parses back from its own method and path,
/// names cannot add path levels, and every other request gets the status a client can act on.
@Suite struct ControlRouteTests {
    static let names = ["alpha", "a/b", "..", "with space", "pct%2F", "ünï", "?x=1", "#frag"]

    static var every: [ControlRoute] {
        var routes: [ControlRoute] = [.status, .graph, .hosts, .listMeshes, .createMesh, .joinMesh]
        for name in names {
            routes += [
                .mesh(name), .leaveMesh(name), .invite(name), .setAlias(name), .setDescription(name), .ping(name),
                .accessPolicy(name), .setAccessPolicy(name), .checkAccess(name),
            ]
            for service in names {
                routes += [
                    .setService(name, name: service), .deleteService(name, name: service),
                    .changeTags(name, member: service),
                ]
            }
        }
        return routes
    }

    @Test func everyRouteParsesBackFromItsMethodAndPath() throws {
        for route in Self.every {
            #expect(try ControlRoute(method: route.method, path: route.path) == route, "\(route.path)")
        }
    }

    @Test func theDocumentedPathsAreTheRoutes() throws {
        #expect(ControlRoute.status.path == "/v1/status")
        #expect(ControlRoute.joinMesh.path == "/v1/meshes/join" && ControlRoute.joinMesh.method == "POST")
        #expect(ControlRoute.setService("m", name: "web").path == "/v1/meshes/m/self/services/web")
        #expect(ControlRoute.mesh("a/b").path == "/v1/meshes/a%2Fb")
        #expect(ControlRoute.ping("m").path == "/v1/meshes/m/ping" && ControlRoute.ping("m").method == "POST")
        #expect(try ControlRoute(method: "GET", path: "/v1/status?verbose=1") == .status)
        #expect(
            ControlRoute.accessPolicy("m").path == "/v1/meshes/m/acl" && ControlRoute.accessPolicy("m").method == "GET")
        #expect(ControlRoute.setAccessPolicy("m").method == "PUT")
        #expect(ControlRoute.checkAccess("m").path == "/v1/meshes/m/acl/check")
        #expect(ControlRoute.changeTags("m", member: "web1").path == "/v1/meshes/m/acl/tags/web1")
        #expect(failure("GET", "/v1/meshes/m/acl/check")?.status == 405)
        #expect(failure("GET", "/v1/meshes/m/acl/nothing")?.status == 404)
    }

    func failure(_ method: String, _ path: String) -> ControlRouteError? {
        do {
            _ = try ControlRoute(method: method, path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func otherRequestsAreRefusedWithTheRightStatus() {
        #expect(failure("GET", "/v2/status")?.status == 404)
        #expect(failure("GET", "/v1/nothing")?.status == 404)
        #expect(failure("GET", "/v1/meshes/m/self/colour")?.status == 405, "fields of self are PUT")
        #expect(failure("PUT", "/v1/meshes/m/self/colour")?.message.contains("unknown field colour") == true)
        #expect(failure("GET", "/v1/meshes/%zz")?.status == 400)
        #expect(failure("PATCH", "/v1/meshes")?.message == "method PATCH not allowed here; use GET or POST")
        #expect(failure("PUT", "/v1/meshes/m")?.message == "method PUT not allowed here; use GET or DELETE")
        #expect(
            failure("GET", "/v1/meshes/m/self/services/web")?.message
                == "method GET not allowed here; use PUT or DELETE")
        #expect(failure("POST", "/v1/status")?.status == 405)
    }
}
