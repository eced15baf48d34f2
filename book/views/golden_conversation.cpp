#include "golden_conversation.hpp"

#include "path_template.hpp"

#include <algorithm>
#include <map>
#include <sstream>

namespace book {
namespace {

struct Line {
    std::string text;
    int number = 0;  ///< the exchange's number in the recording (0 for the committed file)
};

std::string party_of(const std::string& line) { return line.substr(0, line.find(' ')); }

// The longest common subsequence of two parties' lines, printed as a diff.
std::string diff(const std::vector<Line>& expected, const std::vector<Line>& recorded) {
    const std::size_t n = expected.size(), m = recorded.size();
    std::vector<std::vector<std::size_t>> common(n + 1, std::vector<std::size_t>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = m; j-- > 0;)
            common[i][j] = expected[i].text == recorded[j].text ? common[i + 1][j + 1] + 1
                                                                : std::max(common[i + 1][j], common[i][j + 1]);
    std::string out;
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && expected[i].text == recorded[j].text) {
            ++i, ++j;
        } else if (j < m && (i == n || common[i][j + 1] >= common[i + 1][j])) {
            out += "  + exchange #" + std::to_string(recorded[j].number) + " is new:     " + recorded[j].text + "\n";
            ++j;
        } else {
            out += "  - expected, not recorded: " + expected[i].text +
                   (j < m ? "  (recorded exchange #" + std::to_string(recorded[j].number) + " instead: " +
                                recorded[j].text + ")"
                          : "") +
                   "\n";
            ++i;
        }
    }
    return out;
}

}  // namespace

std::vector<std::string> golden_lines(const Conversation& conversation) {
    std::vector<std::string> lines;
    for (const auto& exchange : conversation.exchanges) {
        std::string party = lifeline_of(exchange.client.host);
        std::replace(party.begin(), party.end(), ' ', '-');
        lines.push_back(party + " " + exchange.client.method + " " + path_template(exchange.client.uri) + " " +
                        std::to_string(exchange.client.status));
    }
    return lines;
}

bool compares_in_any_order(const std::string& golden_text) {
    return golden_text.starts_with("# order: any") || golden_text.find("\n# order: any") != std::string::npos;
}

std::string golden_file_text(const Conversation& conversation, bool any_order) {
    std::string text = "# " + conversation.program +
                       ": the recorded conversation, scrubbed. One line per exchange, in the order the\n"
                       "# client finished them: <party> <method> <path template> <status>. The book's build\n"
                       "# compares each new recording with this file, party by party.\n";
    if (any_order) text += "# order: any (this run's requests race: each party's lines compare as a set)\n";
    for (const std::string& line : golden_lines(conversation)) text += line + "\n";
    return text;
}

std::string compare_with_golden(const Conversation& conversation, const std::string& golden_text) {
    std::map<std::string, std::vector<Line>> expected, recorded;
    const bool any_order = compares_in_any_order(golden_text);
    std::istringstream in(golden_text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line.starts_with("#")) continue;
        expected[party_of(line)].push_back({line, 0});
    }
    const auto lines = golden_lines(conversation);
    for (std::size_t i = 0; i < lines.size(); ++i) recorded[party_of(lines[i])].push_back({lines[i], static_cast<int>(i) + 1});

    std::map<std::string, bool> parties;
    for (const auto& [party, _] : expected) parties[party] = true;
    for (const auto& [party, _] : recorded) parties[party] = true;
    std::string report;
    for (const auto& [party, _] : parties) {
        auto want = expected[party];
        auto got = recorded[party];
        if (any_order) {
            const auto by_text = [](const Line& a, const Line& b) { return a.text < b.text; };
            std::stable_sort(want.begin(), want.end(), by_text);
            std::stable_sort(got.begin(), got.end(), by_text);
        }
        if (const std::string differences = diff(want, got); !differences.empty())
            report += " what the " + party + " saw changed:\n" + differences;
    }
    return report;
}

}  // namespace book
