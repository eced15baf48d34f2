#include "recorded_conversation.hpp"

#include "scrub.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace book {
namespace {

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The error codes registries send: the distribution specification's, and 2.8.2's own.
const std::regex& error_code_pattern() {
    static const std::regex pattern(
        "\\b(BLOB_UNKNOWN|BLOB_UPLOAD_INVALID|BLOB_UPLOAD_UNKNOWN|DIGEST_INVALID|MANIFEST_BLOB_UNKNOWN|"
        "MANIFEST_INVALID|MANIFEST_UNKNOWN|NAME_INVALID|NAME_UNKNOWN|SIZE_INVALID|UNAUTHORIZED|DENIED|"
        "UNSUPPORTED|TOOMANYREQUESTS|PAGINATION_NUMBER_INVALID|UNAVAILABLE|UNKNOWN)\\b");
    return pattern;
}

void add_unique(std::vector<std::string>& codes, const std::string& code) {
    if (std::find(codes.begin(), codes.end(), code) == codes.end()) codes.push_back(code);
}

// The log writes a code in words ("blob unknown"); the wire, and the book, in capitals.
std::string code_from_log_words(std::string words) {
    for (char& c : words) c = c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return words;
}

// The program's output interleaves its narration with one `curl -v` style block per
// exchange ("> METHOD path HTTP/1.1", or HTTP/2, or no version where no answer came, ... up to
// a blank line), in the order they finished.
struct PrintedRun {
    std::vector<std::vector<std::string>> narration_before;  ///< one per block, then the rest
    std::vector<std::string> blocks;
};

PrintedRun split_printed_run(const std::string& output) {
    static const std::regex request_line(R"(> [A-Z]+ /\S*( HTTP/[0-9.]+)?)");
    PrintedRun run;
    run.narration_before.emplace_back();
    std::istringstream in(output);
    std::string block;
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (inside) {
            if (line.empty()) {
                run.blocks.push_back(block);
                run.narration_before.emplace_back();
                inside = false;
            } else {
                block += line + "\n";
            }
        } else if (std::regex_match(line, request_line)) {
            inside = true;
            block = line + "\n";
        } else if (!line.empty()) {
            run.narration_before.back().push_back(line);
        }
    }
    if (inside) run.blocks.push_back(block);
    return run;
}

// "0.95 ms", "20.1 ms", "2.31 s": enough digits to compare, not the registry's nine.
std::string readable_duration(std::chrono::nanoseconds duration) {
    const double ms = static_cast<double>(duration.count()) / 1e6;
    char text[32];
    if (ms >= 1000) std::snprintf(text, sizeof text, "%.2f s", ms / 1000);
    else std::snprintf(text, sizeof text, ms >= 10 ? "%.1f ms" : "%.2f ms", ms);
    return text;
}

// Every log line of one request shares its "http.request.id".
struct LogGroup {
    std::string method, uri;
    std::string user_agent;  // chapter 16's registry log has other clients' requests too
    LoggedRequest logged;
    bool used = false;
};

std::vector<LogGroup> group_log_by_request(const std::string& log, const Replacements& replacements) {
    std::vector<LogGroup> groups;
    std::map<std::string, std::size_t> by_id;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        const auto json = nlohmann::json::parse(line, nullptr, false);
        if (!json.is_object() || !json.contains("http.request.id")) continue;
        const std::string id = json.value("http.request.id", "");
        auto [at, added] = by_id.try_emplace(id, groups.size());
        if (added) groups.emplace_back();
        LogGroup& group = groups[at->second];
        group.method = json.value("http.request.method", group.method);
        group.uri = json.value("http.request.uri", group.uri);
        group.user_agent = json.value("http.request.useragent", group.user_agent);
        if (json.value("msg", "").starts_with("response completed"))
            for (const auto& completed : harness::parse_registry_log(line))
                group.logged.duration = readable_duration(completed.duration);
        std::string message = json.value("msg", "");
        if (json.contains("err.code")) {
            message += " (" + json.value("err.code", "") + ")";
            add_unique(group.logged.error_codes, code_from_log_words(json.value("err.code", "")));
        }
        // Messages quote paths and ports ("sync /tmp/.../data"): scrubbed like everything shown.
        group.logged.messages.push_back(harness::scrub(message, replacements));
    }
    return groups;
}

std::string scrub_text(const std::string& text, const Replacements& replacements) {
    return harness::scrub(text, replacements);
}

std::vector<std::pair<std::string, std::string>> scrub_headers(
    const std::vector<std::pair<std::string, std::string>>& headers, const Replacements& replacements) {
    std::vector<std::pair<std::string, std::string>> scrubbed;
    for (const auto& [name, value] : headers) {
        const std::string line = scrub_text(name + ": " + value, replacements);
        const auto colon = line.find(": ");
        scrubbed.emplace_back(line.substr(0, colon), colon == std::string::npos ? "" : line.substr(colon + 2));
    }
    return scrubbed;
}

}  // namespace

Replacements read_replacements(const fs::path& file) {
    Replacements replacements;
    for (const auto& pair : nlohmann::json::parse(read_text(file)))
        replacements.emplace_back(pair.at(0), pair.at(1));
    return replacements;
}

std::string lifeline_of(const std::string& host) {
    static const std::map<std::string, std::string> names = {
        {"localhost:5000", "registry"},       {"localhost:5001", "upstream"},
        {"localhost:5002", "basic-auth registry"}, {"localhost:5003", "token-auth registry"},
        {"localhost:5443", "TLS registry"},   {"localhost:5005", "token server"},
        {"localhost:5004", "mirror"},         {"localhost:5006", "debug address"},
        {"localhost:5007", "event receiver"},
    };
    const auto found = names.find(host);
    return found == names.end() ? host : found->second;
}

std::string narration_text(const Conversation& conversation) {
    std::string text;
    for (const auto& exchange : conversation.exchanges)
        for (const auto& line : exchange.narration) text += line + "\n";
    for (const auto& line : conversation.closing_narration) text += line + "\n";
    return text;
}

Conversation read_conversation(const fs::path& dir, const std::string& program,
                               const Replacements& replacements) {
    Conversation conversation;
    conversation.program = program;
    const fs::path transcript = dir / (program + ".transcript.jsonl");
    const std::vector<harness::ObservedExchange> observed =
        fs::exists(transcript) ? harness::read_transcript(transcript) : std::vector<harness::ObservedExchange>{};
    // What read_transcript leaves out: the reason phrase and the body's digest.
    std::vector<nlohmann::json> lines;
    if (fs::exists(transcript)) {
        std::istringstream in(read_text(transcript));
        for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    }
    const PrintedRun printed = split_printed_run(read_text(dir / (program + ".out")));
    // Block i is exchange i when the program printed them in the order it recorded them; a
    // program whose threads print out of order gets its narration kept whole instead.
    bool blocks_match = printed.blocks.size() == observed.size();
    for (std::size_t i = 0; blocks_match && i < observed.size(); ++i)
        blocks_match = printed.blocks[i].starts_with(
            "> " + observed[i].method + " " + scrub_text(observed[i].uri, replacements) +
            (observed[i].http_version.empty() ? "" : " " + observed[i].http_version) + "\n");

    const fs::path log_file = dir / (program + ".registry.jsonl");
    std::vector<LogGroup> log = group_log_by_request(fs::exists(log_file) ? read_text(log_file) : "", replacements);

    for (std::size_t i = 0; i < observed.size(); ++i) {
        RecordedExchange exchange;
        exchange.number = static_cast<int>(i) + 1;
        exchange.raw_url = lines[i].value("url", "");
        exchange.raw_response_headers = observed[i].response_headers;
        exchange.reason = lines[i].value("reason", "");
        exchange.body_digest = lines[i].value("body_digest", "");
        exchange.client = observed[i];
        harness::ObservedExchange& client = exchange.client;
        client.host = scrub_text(client.host, replacements);
        client.uri = scrub_text(client.uri, replacements);
        client.request_headers = scrub_headers(client.request_headers, replacements);
        client.response_headers = scrub_headers(client.response_headers, replacements);
        if (blocks_match) {
            exchange.narration = printed.narration_before[i];
            exchange.shown = printed.blocks[i];
        }
        // Only the registry on localhost:5000 has its log recorded; match in order.
        if (client.host == "localhost:5000")
            for (LogGroup& group : log)
                if (!group.used && group.method == observed[i].method && group.uri == observed[i].uri &&
                    group.user_agent == observed[i].user_agent) {
                    group.used = true;
                    exchange.logged = group.logged;
                    break;
                }
        conversation.exchanges.push_back(std::move(exchange));
    }
    for (std::size_t i = 0; i < conversation.exchanges.size(); ++i) {
        RecordedExchange& exchange = conversation.exchanges[i];
        if (exchange.client.status < 400) continue;
        if (exchange.logged) exchange.error_codes = exchange.logged->error_codes;
        if (!exchange.error_codes.empty() || !blocks_match) continue;
        for (const std::string& line : printed.narration_before[i + 1])
            for (auto it = std::sregex_iterator(line.begin(), line.end(), error_code_pattern());
                 it != std::sregex_iterator(); ++it)
                add_unique(exchange.error_codes, it->str());
    }
    if (blocks_match) {
        conversation.closing_narration = printed.narration_before.back();
    } else {
        // The printout and the transcript disagree (threads printing out of order): keep the
        // narration whole, after the last exchange, rather than beside the wrong one.
        for (const auto& lines : printed.narration_before)
            conversation.closing_narration.insert(conversation.closing_narration.end(), lines.begin(), lines.end());
    }
    return conversation;
}

}  // namespace book
