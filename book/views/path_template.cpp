#include "path_template.hpp"

#include <algorithm>
#include <regex>

namespace book {
namespace {
const std::regex& full_digest() {
    static const std::regex pattern("sha256:([0-9a-f]{8})[0-9a-f]{56}");
    return pattern;
}
// The referrers tag schema's tags (chapter 14): a digest with '-' for ':', `sha256-<64 hex>`.
const std::regex& referrers_tag() {
    static const std::regex pattern("sha256-([0-9a-f]{8})[0-9a-f]{56}");
    return pattern;
}
// A path segment of hundreds of characters (chapter 04's over-long name) says only its length.
std::string long_segments_counted(const std::string& uri) {
    static const std::regex long_segment("/([^/?]{100,})");
    std::string out;
    auto rest = uri.cbegin();
    for (auto it = std::sregex_iterator(uri.begin(), uri.end(), long_segment); it != std::sregex_iterator(); ++it) {
        out.append(rest, (*it)[0].first);
        out += "/<" + std::to_string((*it)[1].length()) + " characters>";
        rest = (*it)[0].second;
    }
    return out.append(rest, uri.cend());
}

}  // namespace

std::string shortened_path(const std::string& uri) {
    return std::regex_replace(std::regex_replace(long_segments_counted(uri), full_digest(), "sha256:$1\u2026"),
                              referrers_tag(), "sha256-$1\u2026");
}

std::string path_template(const std::string& uri) {
    // Registry 2.8.2 writes a challenged scope's actions in Go map order, which changes from
    // run to run ("pull,push" or "push,pull"); the client asks for what it was told.
    static const std::regex push_pull("push%2Cpull");
    const std::string digests = std::regex_replace(long_segments_counted(uri), full_digest(), "<digest>");
    return std::regex_replace(std::regex_replace(digests, referrers_tag(), "sha256-<hex>"), push_pull, "pull%2Cpush");
}

std::vector<std::string> digests_in(const std::string& text) {
    std::vector<std::string> digests;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), full_digest()); it != std::sregex_iterator(); ++it)
        if (std::find(digests.begin(), digests.end(), it->str()) == digests.end()) digests.push_back(it->str());
    return digests;
}

}  // namespace book
