// The text helpers every layer shares, one home each: ASCII case (header names, URL schemes
// and hosts, platform names compare ignoring it) and quoting untrusted text in one line.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace wbclient {

/// ASCII case-insensitive equality, as HTTP header names and parameters compare.
inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

/// ASCII lower case (std::tolower per byte, no locale surprises for UTF-8 bytes).
inline std::string lower(std::string_view text) {
    std::string result(text);
    for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return result;
}

/// `text` with control characters shown as '?', so a value quoted in an error message can
/// never break the one-line promise (a manifest may spell "\n" inside a JSON string); longer
/// than `limit` characters, cut there and ended with "...".
inline std::string printable(std::string_view text, std::size_t limit = std::string_view::npos) {
    std::string shown(text.substr(0, limit));
    for (char& c : shown)
        if (std::iscntrl(static_cast<unsigned char>(c))) c = '?';
    return text.size() > limit ? shown + "..." : shown;
}

}  // namespace wbclient
