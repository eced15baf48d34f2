// One shape for an HTTP exchange, whether the client recorded it or the registry logged it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace harness {

struct ObservedExchange {
    std::string method;
    std::string uri;  ///< path and query, e.g. "/v2/my-busybox/manifests/latest"
    long status = 0;
    std::uint64_t bytes_sent = 0;      ///< request body bytes (client side only)
    std::uint64_t bytes_received = 0;  ///< response body bytes
    /// Connections the client opened for this exchange, 0 on a reused one (client side only).
    long new_connections = 0;
    /// "HTTP/1.1", "HTTP/2": what libcurl says the answer came in, "" for none (client side only).
    std::string http_version;
    std::string user_agent;
    std::string host;  ///< host:port the request was addressed to
    std::string error_code;  ///< the registry's err.code, e.g. "blob unknown" (server side only)
    /// The request's Content-Type as the registry logged it: what a manifest was pushed as,
    /// "application/vnd.oci.image.manifest.v1+json" (server side only).
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> request_headers;   ///< client side only
    std::vector<std::pair<std::string, std::string>> response_headers;  ///< client side only
    /// When the registry finished the response: its log line's "time" (server side only).
    std::chrono::system_clock::time_point completed{};
    /// How long the registry spent on it: "http.response.duration" (server side only).
    std::chrono::nanoseconds duration{0};
    /// The client's address and port as the registry saw them, "127.0.0.1:41234": one per
    /// connection, so requests with the same one shared a connection (server side only).
    std::string remote_address;
    /// When the registry began the request: completed minus duration (server side only).
    std::chrono::system_clock::time_point started() const { return completed - duration; }

    std::optional<std::string> response_header(std::string_view name) const;
    /// The path without the query string.
    std::string path() const;
};

/// The registry's JSON log lines for finished requests ("response completed", with or
/// without error), in order.
std::vector<ObservedExchange> parse_registry_log(std::string_view log);
/// The transcript a chapter program wrote through WORKBOOK_TRANSCRIPT.
std::vector<ObservedExchange> read_transcript(const std::filesystem::path& file);

/// "GET /v2/ 200" per exchange, for assertion messages.
std::string summarize(const std::vector<ObservedExchange>& exchanges);

}  // namespace harness
