#include "scrub.hpp"

#include <regex>

namespace harness {

std::string scrub(std::string text,
                  const std::vector<std::pair<std::string, std::string>>& replacements) {
    for (const auto& [from, to] : replacements) {
        if (from.empty()) continue;
        for (std::size_t at = text.find(from); at != std::string::npos;
             at = text.find(from, at + to.size()))
            text.replace(at, from.size(), to);
    }
    static const std::vector<std::pair<std::regex, std::string>> volatile_values = {
        // HTTP/2 writes header names in lower case ("date:"), HTTP/1.1 servers mostly "Date:".
        {std::regex(R"(([Dd]ate): [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)"),
         "$1: <date>"},
        {std::regex(R"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"), "<uuid>"},
        {std::regex(R"(_state=[A-Za-z0-9_\-%=]+)"), "_state=<state>"},
        // The registry's JSON log: timestamps, durations and client ports change every run.
        {std::regex(R"re("time": ?"[0-9T:.\-]+Z")re"), "\"time\": \"<time>\""},
        {std::regex(R"re("http\.response\.duration": ?"[^"]+")re"), "\"http.response.duration\": \"<duration>\""},
        {std::regex(R"re("http\.request\.remoteaddr": ?"([0-9.]+):[0-9]+")re"),
         "\"http.request.remoteaddr\": \"$1:<port>\""},
    };
    for (const auto& [pattern, placeholder] : volatile_values)
        text = std::regex_replace(text, pattern, placeholder);
    return text;
}

}  // namespace harness
