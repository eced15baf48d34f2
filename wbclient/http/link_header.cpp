#include "wbclient/http/link_header.hpp"

#include "wbclient/model/text.hpp"

#include <algorithm>
#include <stdexcept>

namespace wbclient {
namespace {

// A cursor over one header value, with the few token rules RFC 8288 and RFC 9110 need.
class LinkScanner {
public:
    explicit LinkScanner(std::string_view text) : text_(text) {}

    bool done() const { return pos_ >= text_.size(); }
    char peek() const { return done() ? '\0' : text_[pos_]; }
    void skip_space() {
        while (!done() && (peek() == ' ' || peek() == '\t')) ++pos_;
    }
    bool accept(char c) {
        if (peek() != c) return false;
        ++pos_;
        return true;
    }

    std::string target() {
        if (!accept('<')) fail("expected '<' to open a link target");
        const auto close = text_.find('>', pos_);
        if (close == std::string_view::npos) fail("a link target has no closing '>'");
        std::string value(text_.substr(pos_, close - pos_));
        pos_ = close + 1;
        return value;
    }

    std::string token() {
        const auto start = pos_;
        while (!done() && !std::isspace(static_cast<unsigned char>(peek())) &&
               std::string_view(";,=\"<>").find(peek()) == std::string_view::npos)
            ++pos_;
        if (pos_ == start) fail("expected a parameter name or value");
        return std::string(text_.substr(start, pos_ - start));
    }

    std::string quoted() {
        std::string value;
        for (++pos_; !done(); ++pos_) {
            if (peek() == '"') {
                ++pos_;
                return value;
            }
            if (peek() == '\\' && pos_ + 1 < text_.size()) ++pos_;
            value += peek();
        }
        fail("a quoted value has no closing '\"'");
    }

    [[noreturn]] void fail(const std::string& why) const {
        throw std::invalid_argument("malformed Link header '" + std::string(text_) + "': " + why +
                                    " at offset " + std::to_string(pos_));
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

std::vector<std::string> split_relations(std::string_view value) {
    std::vector<std::string> relations;
    std::size_t pos = 0;
    while (pos < value.size()) {
        const auto start = value.find_first_not_of(" \t", pos);
        if (start == std::string_view::npos) break;
        const auto end = std::min(value.find_first_of(" \t", start), value.size());
        relations.push_back(lower(value.substr(start, end - start)));
        pos = end;
    }
    return relations;
}

}  // namespace

std::vector<LinkValue> parse_link_header(std::string_view value) {
    std::vector<LinkValue> links;
    LinkScanner scan(value);
    while (true) {
        // Lists may hold empty elements: ", ,<a>" is one link.
        scan.skip_space();
        while (scan.accept(',')) scan.skip_space();
        if (scan.done()) break;

        LinkValue link{.target = scan.target()};
        bool seen_rel = false;
        scan.skip_space();
        while (scan.accept(';')) {
            scan.skip_space();
            if (scan.done() || scan.peek() == ',' || scan.peek() == ';') continue;
            const std::string name = scan.token();
            scan.skip_space();
            std::string param;
            if (scan.accept('=')) {
                scan.skip_space();
                param = scan.peek() == '"' ? scan.quoted() : scan.token();
            }
            // Only the first rel counts (RFC 8288, 3.3).
            if (equals_ignoring_case(name, "rel") && !seen_rel) {
                link.relations = split_relations(param);
                seen_rel = true;
            }
            scan.skip_space();
        }
        if (!scan.done() && scan.peek() != ',') scan.fail("expected ',' or ';'");
        links.push_back(std::move(link));
    }
    return links;
}

std::optional<std::string> next_link(const Headers& headers) {
    // A server may send several Link fields; each may hold several links.
    for (const auto& [name, value] : headers.fields()) {
        if (!equals_ignoring_case(name, "Link")) continue;
        for (const LinkValue& link : parse_link_header(value))
            if (std::find(link.relations.begin(), link.relations.end(), "next") !=
                link.relations.end())
                return link.target;
    }
    return std::nullopt;
}

}  // namespace wbclient
