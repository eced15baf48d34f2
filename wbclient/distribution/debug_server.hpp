// The registry's debug address (http.debug.addr in its configuration), a second listener
// beside the API: Prometheus metrics (http.debug.prometheus.path, "/metrics" by convention),
// the health checks on /debug/health and Go's expvar on /debug/vars. One function per
// endpoint. The address answers plain HTTP without authentication, so give these functions a
// client of their own (HttpClient(options)) rather than one that carries the API's login.
#pragma once

#include "wbclient/http/http.hpp"
#include "wbclient/model/prometheus_text.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace wbclient {

/// GET `debug_url` + `path` → 200 in the text exposition format (asked for with Accept),
/// parsed. `debug_url` is "host:port" or "http://host:port". Throws RegistryError for another
/// status, and a one-line std::runtime_error naming the request for an answer in another
/// format or text that breaks it (with the line, as MetricsParseError words it).
MetricsText fetch_metrics(HttpClient& http, const std::string& debug_url,
                          const std::string& path = "/metrics");

/// GET `debug_url`/debug/vars → 200: Go's expvar, a JSON object ("cmdline", "memstats", and
/// the registry's own "registry" counters). Throws RegistryError for another status and
/// std::runtime_error for a body that is not a JSON object.
nlohmann::json fetch_debug_vars(HttpClient& http, const std::string& debug_url);

/// What /debug/health said: 200 and {} when every check passes, 503 and
/// `{"<check name>": "<error>", ...}` when one fails.
struct HealthReport {
    unsigned status = 0;
    nlohmann::json checks = nlohmann::json::object();
    bool healthy() const { return status == 200; }
};

/// GET `debug_url`/debug/health → 200 or 503, both reports. Throws RegistryError for any other
/// status and std::runtime_error for a body that is not a JSON object.
HealthReport fetch_health(HttpClient& http, const std::string& debug_url);

}  // namespace wbclient
