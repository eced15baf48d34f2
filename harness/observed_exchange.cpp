#include "observed_exchange.hpp"

#include "regclient/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace harness {
namespace {

std::vector<std::pair<std::string, std::string>> header_list(const nlohmann::json& json) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& field : json) headers.emplace_back(field.at(0), field.at(1));
    return headers;
}

}  // namespace

std::optional<std::string> ObservedExchange::response_header(std::string_view name) const {
    for (const auto& [field, value] : response_headers)
        if (regclient::equals_ignoring_case(field, name)) return value;
    return std::nullopt;
}

std::string ObservedExchange::path() const { return uri.substr(0, uri.find('?')); }

std::vector<ObservedExchange> parse_registry_log(std::string_view log) {
    std::vector<ObservedExchange> exchanges;
    std::istringstream lines{std::string(log)};
    for (std::string line; std::getline(lines, line);) {
        const auto json = nlohmann::json::parse(line, nullptr, false);
        // Successful requests log "response completed"; failed ones "... with error".
        if (!json.is_object() || !json.value("msg", "").starts_with("response completed")) continue;
        ObservedExchange exchange;
        exchange.method = json.value("http.request.method", "");
        exchange.uri = json.value("http.request.uri", "");
        exchange.status = json.value("http.response.status", 0L);
        exchange.bytes_received = json.value("http.response.written", std::uint64_t{0});
        exchange.user_agent = json.value("http.request.useragent", "");
        exchange.host = json.value("http.request.host", "");
        exchange.error_code = json.value("err.code", "");
        exchanges.push_back(std::move(exchange));
    }
    return exchanges;
}

std::vector<ObservedExchange> read_transcript(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("no transcript at " + file.string());
    std::vector<ObservedExchange> exchanges;
    for (std::string line; std::getline(in, line);) {
        const auto json = nlohmann::json::parse(line);
        ObservedExchange exchange;
        exchange.method = json.at("method");
        const std::string url = json.at("url");
        const auto host_start = url.find("://") + 3;
        const auto path_start = url.find('/', host_start);
        exchange.host = url.substr(host_start, path_start - host_start);
        exchange.uri = path_start == std::string::npos ? "/" : url.substr(path_start);
        exchange.status = json.at("status");
        exchange.bytes_sent = json.at("bytes_sent");
        exchange.bytes_received = json.at("bytes_received");
        exchange.new_connections = json.value("new_connections", 0L);
        exchange.request_headers = header_list(json.at("request_headers"));
        exchange.response_headers = header_list(json.at("response_headers"));
        for (const auto& [name, value] : exchange.request_headers)
            if (regclient::equals_ignoring_case(name, "User-Agent")) exchange.user_agent = value;
        exchanges.push_back(std::move(exchange));
    }
    return exchanges;
}

std::string summarize(const std::vector<ObservedExchange>& exchanges) {
    std::string text;
    for (const auto& exchange : exchanges)
        text += exchange.method + " " + exchange.path() + " " + std::to_string(exchange.status) + "\n";
    return text;
}

}  // namespace harness
