#include "conversation_page.hpp"

#include "html_text.hpp"
#include "path_template.hpp"

namespace book {
namespace {

std::string size_text(std::uint64_t bytes) {
    if (bytes < 10 * 1024) return std::to_string(bytes) + " B";
    if (bytes < 10 * 1024 * 1024) return std::to_string(bytes / 1024) + " KiB";
    return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

std::string log_cell(const RecordedExchange& exchange) {
    if (exchange.client.host != "localhost:5000") return "<td class=\"logged unlogged\">(not this registry's log)</td>";
    if (!exchange.logged) return "<td class=\"logged unlogged\">nothing logged for it</td>";
    std::string cell = "<td class=\"logged\">";
    for (const std::string& message : exchange.logged->messages) cell += escaped(message) + "<br/>";
    return cell + "</td>";
}

std::string legend(const Conversation& conversation) {
    std::string all;
    for (const auto& exchange : conversation.exchanges) all += exchange.client.uri + "\n";
    const auto digests = digests_in(all);
    if (digests.empty()) return "";
    std::string html = "<details class=\"digest-legend\"><summary>The digests the diagram shortens</summary><ul>";
    for (const std::string& digest : digests)
        html += "<li><code>" + escaped(shortened_path(digest)) + "</code> = <code>" + escaped(digest) + "</code></li>";
    return html + "</ul></details>\n";
}

}  // namespace

std::string conversation_html(const Conversation& conversation, const std::vector<ReplayCommand>& replay,
                              const std::string& printed_run, const std::string& anchor_prefix) {
    std::string html = "<div class=\"conversation\" data-program=\"" + escaped(conversation.program) + "\">\n";
    html += legend(conversation);
    html += "<p class=\"exchanges-note\">Every exchange of the run, in the order the client finished them. "
            "Time is the registry's own (its log's <code>http.response.duration</code>); the last column is "
            "what the registry on <code>localhost:5000</code> logged for the same request.</p>\n"
            "<table class=\"exchanges\">\n"
            "<tr><th>#</th><th>to</th><th>method</th><th>path</th><th>status</th><th>sent</th>"
            "<th>received</th><th>time (registry)</th><th>registry log</th></tr>\n";
    for (const RecordedExchange& exchange : conversation.exchanges) {
        const auto& client = exchange.client;
        const std::string status = client.status == 0 ? std::string("no answer")
                                   : std::to_string(client.status) + (exchange.reason.empty() ? "" : " " + exchange.reason);
        html += "<tr id=\"" + anchor_prefix + std::to_string(exchange.number) + "\">";
        html += "<td>" + std::to_string(exchange.number) + "</td>";
        html += "<td>" + escaped(lifeline_of(client.host)) + "</td>";
        html += "<td><code>" + escaped(client.method) + "</code></td>";
        html += "<td class=\"path\"><code>" + escaped(client.uri) + "</code></td>";
        html += "<td class=\"status status" + std::to_string(client.status / 100) + "xx\">" + escaped(status) + "</td>";
        html += "<td>" + size_text(client.bytes_sent) + "</td>";
        html += "<td>" + size_text(client.bytes_received) + "</td>";
        html += "<td>" + escaped(exchange.logged ? exchange.logged->duration : std::string("\u2013")) + "</td>";
        html += log_cell(exchange) + "</tr>\n";
    }
    html += "</table>\n";

    html += "<details class=\"replay\"><summary>Replay it with curl (" + std::to_string(replay.size()) +
            " commands; bodies are files under <code>bodies/</code> named by digest)</summary>\n"
            "<pre class=\"replay\">mkdir -p bodies\n";
    for (const ReplayCommand& command : replay)
        html += "<span id=\"" + anchor_prefix + "replay" + std::to_string(command.number) + "\">" +
                escaped(command.comment) + "\n" + escaped(command.command) + "</span>\n";
    html += "</pre></details>\n";

    html += "<details class=\"transcript\"><summary>The whole run as the program printed it, every header "
            "(<code>&gt;</code> sent, <code>&lt;</code> received)</summary>\n<pre class=\"fragment transcript\">" +
            escaped(printed_run) + "</pre></details>\n</div>\n";
    return html;
}

}  // namespace book
