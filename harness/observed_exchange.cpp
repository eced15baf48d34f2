#include "observed_exchange.hpp"

#include "wbclient/http/url.hpp"
#include "wbclient/model/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
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

// The registry's "time": RFC 3339 with nanoseconds, "2024-05-01T12:00:00.123456789Z" (or
// an offset instead of Z). Zero when absent or malformed.
std::chrono::system_clock::time_point parse_log_time(const std::string& text) {
    std::tm fields{};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &fields.tm_year, &fields.tm_mon,
                    &fields.tm_mday, &fields.tm_hour, &fields.tm_min, &fields.tm_sec, &consumed) != 6)
        return {};
    fields.tm_year -= 1900;
    fields.tm_mon -= 1;
    auto time = std::chrono::system_clock::from_time_t(timegm(&fields));
    std::size_t at = static_cast<std::size_t>(consumed);
    if (at < text.size() && text[at] == '.') {
        std::int64_t nanoseconds = 0;
        int digits = 0;
        for (++at; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at)
            if (digits++ < 9) nanoseconds = nanoseconds * 10 + (text[at] - '0');
        for (; digits < 9; ++digits) nanoseconds *= 10;
        time += std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(nanoseconds));
    }
    int hours = 0, minutes = 0;
    if (at < text.size() && (text[at] == '+' || text[at] == '-') &&
        std::sscanf(text.c_str() + at + 1, "%2d:%2d", &hours, &minutes) == 2)
        time -= (text[at] == '+' ? 1 : -1) * (std::chrono::hours(hours) + std::chrono::minutes(minutes));
    return time;
}

// Go's time.Duration.String(): "1.5s", "2m3.5s", "850µs", "1.095539ms", "0s".
std::chrono::nanoseconds parse_go_duration(const std::string& text) {
    double total = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t used = 0;
        double value = 0;
        try {
            value = std::stod(text.substr(at), &used);
        } catch (const std::exception&) {
            return std::chrono::nanoseconds(0);
        }
        at += used;
        const std::string_view rest = std::string_view(text).substr(at);
        double unit = 0;
        std::size_t length = 0;
        for (const auto& [name, nanoseconds] : {std::pair<std::string_view, double>{"ns", 1},
                                                {"\u00b5s", 1e3}, {"\u03bcs", 1e3}, {"us", 1e3},
                                                {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}})
            if (rest.starts_with(name)) {
                unit = nanoseconds;
                length = name.size();
                break;
            }
        if (length == 0) return std::chrono::nanoseconds(0);
        total += value * unit;
        at += length;
    }
    return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

}  // namespace

std::optional<std::string> ObservedExchange::response_header(std::string_view name) const {
    for (const auto& [field, value] : response_headers)
        if (wbclient::equals_ignoring_case(field, name)) return value;
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
        exchange.content_type = json.value("http.request.contenttype", "");
        exchange.completed = parse_log_time(json.value("time", ""));
        exchange.duration = parse_go_duration(json.value("http.response.duration", ""));
        exchange.remote_address = json.value("http.request.remoteaddr", "");
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
        const wbclient::Url parsed(url);
        exchange.host = parsed.authority();
        exchange.uri = parsed.path_and_query();
        exchange.status = json.at("status");
        exchange.bytes_sent = json.at("bytes_sent");
        exchange.bytes_received = json.at("bytes_received");
        exchange.new_connections = json.value("new_connections", 0L);
        exchange.http_version = json.value("http_version", "");
        exchange.request_headers = header_list(json.at("request_headers"));
        exchange.response_headers = header_list(json.at("response_headers"));
        for (const auto& [name, value] : exchange.request_headers)
            if (wbclient::equals_ignoring_case(name, "User-Agent")) exchange.user_agent = value;
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
