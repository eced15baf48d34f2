// Text placed inside generated HTML (\htmlinclude puts it in the page as is).
#pragma once

#include <string>

namespace book {

/// `text` with &, <, > and " escaped, safe inside an element or a quoted attribute.
inline std::string escaped(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace book
