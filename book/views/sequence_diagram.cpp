#include "sequence_diagram.hpp"

#include "path_template.hpp"
#include "repeated_exchanges.hpp"

#include <algorithm>
#include <map>
#include <regex>

namespace book {
namespace {

// mscgen strings are double-quoted; a backslash or quote inside must be escaped, and a line
// break is written \n.
std::string msc_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// A note stays a note, not a page: a couple of lines, each cut short.
std::string note_text(const std::vector<std::string>& narration) {
    constexpr std::size_t max_lines = 2, max_width = 90;
    std::string text;
    for (std::size_t i = 0; i < narration.size() && i < max_lines; ++i) {
        std::string line = shortened_path(narration[i]);
        if (line.size() > max_width) {
            std::size_t cut = max_width;
            while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not mid-character
            line = line.substr(0, cut) + "\u2026";
        }
        text += (text.empty() ? "" : "\n") + line;
    }
    if (narration.size() > max_lines) text += " \u2026";
    return text;
}

// For repeats, one manifest is like another: "HEAD .../manifests/<reference>" once per tag.
std::string repeat_template(const std::string& uri) {
    static const std::regex manifest_reference("/manifests/[^/?]+");
    return std::regex_replace(path_template(uri), manifest_reference, "/manifests/<reference>");
}

// What a repeated stretch is repeated for, as the reader would count it.
std::string repeated_per(const std::vector<const RecordedExchange*>& stretch) {
    for (const RecordedExchange* exchange : stretch)
        if (repeat_template(exchange->client.uri).find("/blobs/<digest>") != std::string::npos) return " blobs";
    for (const RecordedExchange* exchange : stretch)
        if (repeat_template(exchange->client.uri).find("/manifests/<reference>") != std::string::npos) return " manifests";
    return "";
}

}  // namespace

std::string repeat_key(const RecordedExchange& exchange) {
    return lifeline_of(exchange.client.host) + " " + exchange.client.method + " " +
           repeat_template(exchange.client.uri) + " " + std::to_string(exchange.client.status);
}

std::string sequence_diagram(const Conversation& conversation, const std::string& anchor_prefix) {
    // Lifelines: the program, then every party in the order it was first spoken to.
    std::vector<std::string> hosts;
    for (const auto& exchange : conversation.exchanges)
        if (std::find(hosts.begin(), hosts.end(), exchange.client.host) == hosts.end())
            hosts.push_back(exchange.client.host);
    std::map<std::string, std::string> entity;
    // The page's column is about 950 px wide: draw at that width (Doxygen's mscgen rounds
    // hscale down to a whole number, so width it is). Wider for more parties, so an arrow's
    // label still fits between its two lifelines; the stylesheet scales it to the column.
    const char* width = hosts.size() <= 2 ? "950" : "1250";
    std::string msc = std::string("msc {\n  width=\"") + width + "\", wordwraparcs=\"true\";\n  program [label=\"program\"]";
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        entity[hosts[i]] = "party" + std::to_string(i);
        msc += ", " + entity[hosts[i]] + " [label=" + msc_string(lifeline_of(hosts[i]) + " (" + hosts[i] + ")") + "]";
    }
    msc += ";\n";
    const std::string widest = hosts.empty() ? "program" : entity[hosts.back()];
    auto note = [&](const std::vector<std::string>& narration) {
        if (!narration.empty())
            msc += "  program note " + widest + " [label=" + msc_string(note_text(narration)) + "];\n";
    };

    std::vector<std::string> keys;
    for (const auto& exchange : conversation.exchanges) keys.push_back(repeat_key(exchange));
    for (const Stretch& stretch : find_repeats(keys)) {
        std::vector<const RecordedExchange*> shown;
        for (std::size_t i = 0; i < stretch.length; ++i) shown.push_back(&conversation.exchanges[stretch.first + i]);
        // What the program said before the stretch belongs above its "× N" line.
        note(shown.front()->narration);
        if (stretch.times > 1)
            msc += "  --- [label=" + msc_string("\u00d7 " + std::to_string(stretch.times) + repeated_per(shown) +
                                            (stretch.length == 1 ? ": the next request repeats, drawn once"
                                                                 : ": the next " + std::to_string(stretch.length) +
                                                                       " requests repeat, drawn once")) + "];\n";
        for (const RecordedExchange* exchange : shown) {
            if (exchange != shown.front()) note(exchange->narration);
            const std::string path = stretch.times > 1 ? repeat_template(exchange->client.uri)
                                                       : shortened_path(exchange->client.uri);
            // Status 0: no HTTP answer at all (refused connection, failed TLS handshake).
            std::string label = exchange->client.method + " " + path + "  \u2192 " +
                                (exchange->client.status == 0 ? std::string("no answer")
                                                              : std::to_string(exchange->client.status));
            if (stretch.times > 1) label += "  (#" + std::to_string(exchange->number) + " \u2026)";
            else label = "#" + std::to_string(exchange->number) + " " + label;
            msc += "  program => " + entity[exchange->client.host] + " [label=" + msc_string(label) +
                   ", URL=" + msc_string("#" + anchor_prefix + std::to_string(exchange->number)) + "];\n";
        }
        if (stretch.times > 1) msc += "  --- [label=\"end of repeat\"];\n";
    }
    note(conversation.closing_narration);
    return msc + "}\n";
}

}  // namespace book
