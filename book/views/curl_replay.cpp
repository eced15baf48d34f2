#include "curl_replay.hpp"

#include "wbclient/model/text.hpp"
#include "scrub.hpp"

#include <array>
#include <regex>
#include <set>

namespace book {
namespace {

std::string single_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string header_value(const std::vector<std::pair<std::string, std::string>>& headers, const std::string& name) {
    for (const auto& [field, value] : headers)
        if (wbclient::equals_ignoring_case(field, name)) return value;
    return "";
}

// The request headers that change what the registry does; curl supplies the rest itself
// (Host, User-Agent, Content-Length) and Accept-Encoding only changes the wire.
bool replayed(const std::string& name) {
    static const std::array<const char*, 6> names = {"Accept", "Content-Type", "Range", "If-None-Match",
                                                     "Content-Range", "Authorization"};
    for (const char* kept : names)
        if (wbclient::equals_ignoring_case(name, kept)) return true;
    return false;
}

// The file a request's body is: an upload names its blob in ?digest=, a manifest PUT gets
// its digest back in Docker-Content-Digest. Both are files an earlier GET saved, or that the
// reader makes; a body with neither is something only the program had.
std::string body_file(const RecordedExchange& exchange) {
    static const std::regex digest_parameter("[?&]digest=(sha256:[0-9a-f]{64})");
    std::smatch match;
    if (std::regex_search(exchange.raw_url, match, digest_parameter)) return "bodies/" + match[1].str();
    const std::string digest = header_value(exchange.raw_response_headers, "Docker-Content-Digest");
    if (exchange.client.status < 300 && !digest.empty()) return "bodies/" + digest;
    return "body-" + std::to_string(exchange.number) + ".bin";
}

}  // namespace

std::vector<ReplayCommand> replay_commands(const Conversation& conversation, const Replacements& replacements) {
    std::vector<ReplayCommand> commands;
    std::string location;  // the newest upload Location, unscrubbed
    std::set<std::string> saved;  // body files an earlier command wrote
    for (const RecordedExchange& exchange : conversation.exchanges) {
        std::string note;
        const harness::ObservedExchange& client = exchange.client;
        std::string command = "curl -sS";
        if (client.method == "HEAD") command += " -I";
        else if (client.method != "GET") command += " -X " + client.method;
        if (client.host == "localhost:5443") command += " --cacert ca.crt";
        for (const auto& [name, value] : client.request_headers) {
            if (!replayed(name)) continue;
            if (wbclient::equals_ignoring_case(name, "Authorization")) command += " -H \"Authorization: $REGISTRY_AUTH\"";
            else command += " -H " + single_quoted(name + ": " + value);
        }
        if (client.bytes_sent > 0) {
            const std::string file = body_file(exchange);
            command += " -T " + file;
            // A body no earlier GET fetched is one the program made (a layer it built, a
            // manifest it wrote): the reader has to put it there first.
            if (!saved.contains(file))
                note = "; its " + std::to_string(client.bytes_sent) + "-byte body is one the program made: put it in " + file +
                       " first";
        }

        const bool opens_or_moves_upload =
            client.status == 202 && !header_value(exchange.raw_response_headers, "Location").empty();
        const bool saves_body = client.method == "GET" && client.status >= 200 && client.status < 300 &&
                                client.bytes_received > 0 && !exchange.body_digest.empty();
        if (opens_or_moves_upload) command += " -o /dev/null -w '%header{location}'";
        else if (saves_body) {
            command += " -o bodies/" + exchange.body_digest;
            saved.insert("bodies/" + exchange.body_digest);
        }

        // An upload's URLs come from the registry's Location answers: follow them by variable.
        std::string url;
        if (!location.empty() && exchange.raw_url.starts_with(location))
            url = "\"${location}" + harness::scrub(exchange.raw_url.substr(location.size()), replacements) + "\"";
        else
            url = single_quoted(harness::scrub(exchange.raw_url, replacements));
        command += " " + url;
        if (opens_or_moves_upload) {
            command = "location=$(" + command + ")";
            location = header_value(exchange.raw_response_headers, "Location");
        }
        std::string status = std::to_string(client.status) + (exchange.reason.empty() ? "" : " " + exchange.reason);
        commands.push_back({exchange.number,
                            "# " + std::to_string(exchange.number) + ": " + client.method + " " + client.uri +
                                " (recorded: " + status + note + ")",
                            command});
    }
    return commands;
}

std::string replay_script(const Conversation& conversation, const std::vector<ReplayCommand>& commands) {
    std::string script = "#!/usr/bin/env bash\n# " + conversation.program +
                         ", replayed with curl: every exchange of the recorded run, in order.\n"
                         "# REGISTRY_AUTH holds an Authorization value (\"Basic ...\" or \"Bearer ...\") where one is sent.\n"
                         "set -eu\nREGISTRY_AUTH=${REGISTRY_AUTH:-}\nmkdir -p bodies\n";
    for (const ReplayCommand& command : commands) script += command.comment + "\n" + command.command + "\n";
    return script;
}

}  // namespace book
