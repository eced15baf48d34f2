#include "wbclient/distribution/debug_server.hpp"

#include "wbclient/distribution/json_body.hpp"
#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/http/url.hpp"
#include "wbclient/model/text.hpp"

#include <stdexcept>

namespace wbclient {

namespace {

Request debug_request(const std::string& debug_url, const std::string& path) {
    if (path.empty() || path.front() != '/')
        throw std::invalid_argument("a debug path starts with '/', not '" + printable(path, 100) + "'");
    return Request{.method = "GET", .url = registry_base_url(debug_url) + path};
}

}  // namespace

MetricsText fetch_metrics(HttpClient& http, const std::string& debug_url, const std::string& path) {
    Request request = debug_request(debug_url, path);
    // Without it, Prometheus' handler may pick protobuf or OpenMetrics for a client that asks.
    request.headers.add("Accept", "text/plain;version=0.0.4");
    const Response response = perform_expecting(http, request, {200});
    const std::string type = response.headers.get("Content-Type").value_or("");
    if (!type.empty() && lower(type).rfind("text/plain", 0) != 0)
        throw std::runtime_error(request.method + " " + request.url + ": the answer is '" + printable(type, 100) +
                                 "', not the text exposition format (text/plain)");
    try {
        return parse_metrics_text(response.body);
    } catch (const MetricsParseError& error) {
        throw std::runtime_error(request.method + " " + request.url + ": " + error.what());
    }
}

nlohmann::json fetch_debug_vars(HttpClient& http, const std::string& debug_url) {
    const Request request = debug_request(debug_url, "/debug/vars");
    return parse_body(request, perform_expecting(http, request, {200}));
}

HealthReport fetch_health(HttpClient& http, const std::string& debug_url) {
    const Request request = debug_request(debug_url, "/debug/health");
    const Response response = perform_expecting(http, request, {200, 503});
    return HealthReport{.status = static_cast<unsigned>(response.status), .checks = parse_body(request, response)};
}

}  // namespace wbclient
