// The one text helper HTTP needs everywhere: header names compare case-insensitively.
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

/// `text` with control characters shown as '?', so a value quoted in an error message can
/// never break the one-line promise (a manifest may spell "\n" inside a JSON string).
inline std::string printable(std::string_view text) {
    std::string shown(text);
    for (char& c : shown)
        if (std::iscntrl(static_cast<unsigned char>(c))) c = '?';
    return shown;
}

}  // namespace wbclient
