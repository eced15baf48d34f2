// A real HTTP server on loopback that answers with scripted responses: the misbehaving
// registry that bad-input tests need (500s, garbage bodies, lies), and the transport under
// the harness's token server.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace harness {

struct ScriptedResponse {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// How the answer goes on the wire. Anything but `normal` plays a broken server; a
    /// Content-Length set in `headers` is sent as given, so it may lie about the body.
    enum class Delivery {
        normal,           ///< the whole answer; the connection stays open if the client wants
        close_after,      ///< the headers and `body_bytes` of the body, then the connection closes
        stall_after,      ///< the headers and `body_bytes` of the body, then silence, connection open
        never_answer,     ///< reads the request, then silence, connection open
    };
    Delivery delivery = Delivery::normal;
    /// With close_after or stall_after: how much of the body is written (all by default).
    std::size_t body_bytes = std::string::npos;
};

/// A request as the server read it.
struct ScriptedRequest {
    std::string method;
    std::string target;  ///< path and query
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// The first value of header `name` (case-insensitive), or "".
    std::string header(std::string_view name) const;
};

/// Decides the answer from the request's method and target (path and query).
using Script = std::function<ScriptedResponse(const std::string& method, const std::string& target)>;
/// Decides the answer from the whole request (headers and body too).
using RequestHandler = std::function<ScriptedResponse(const ScriptedRequest& request)>;

class ScriptedServer {
public:
    explicit ScriptedServer(Script script);
    /// Listens on 127.0.0.1:`port`, or on a free port when `port` is 0. A fixed port lets a
    /// test stop a server and start another where clients (a registry's config) expect it.
    explicit ScriptedServer(RequestHandler handler, unsigned short port = 0);
    ~ScriptedServer();
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;

    /// "127.0.0.1:<port>"
    std::string host_port() const;
    /// "METHOD target" of every request served so far.
    std::vector<std::string> requests() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace harness
