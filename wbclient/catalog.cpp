#include "wbclient/catalog.hpp"

#include "wbclient/manifest.hpp"
#include "wbclient/text.hpp"
#include "wbclient/url.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>
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

Response expect_ok(RegistryClient& client, const Request& request) {
    Response response = client.http().perform(request);
    if (response.status != 200) throw RegistryError(request, response);
    return response;
}

nlohmann::json parse_body(const Request& request, const Response& response) {
    auto json = nlohmann::json::parse(response.body, nullptr, false);
    if (!json.is_object())
        throw std::runtime_error(request.method + " " + request.url +
                                 ": the answer is not a JSON object");
    return json;
}

// Registries send string arrays; anything else is a broken answer, not an empty list.
std::vector<std::string> string_array(const Request& request, const nlohmann::json& body,
                                      const char* field) {
    const auto found = body.find(field);
    if (found == body.end() || found->is_null()) return {};
    if (!found->is_array() ||
        !std::all_of(found->begin(), found->end(), [](const auto& v) { return v.is_string(); }))
        throw std::runtime_error(request.method + " " + request.url + ": \"" + field +
                                 "\" is not a list of strings");
    return found->get<std::vector<std::string>>();
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

std::vector<std::string> list_repositories(RegistryClient& client, unsigned page_size,
                                           const CatalogPageObserver& on_page) {
    if (page_size == 0) throw std::invalid_argument("a catalog page must hold at least one repository");
    std::vector<std::string> all;
    std::set<std::string> fetched;
    std::optional<std::string> url =
        client.base_url() + "/v2/_catalog?n=" + std::to_string(page_size);
    while (url) {
        fetched.insert(*url);
        const Request request{.method = "GET", .url = *url};
        const Response response = expect_ok(client, request);
        CatalogPage page{.url = *url,
                         .repositories = string_array(request, parse_body(request, response),
                                                      "repositories")};
        for (const auto& [name, value] : response.headers.fields())
            if (equals_ignoring_case(name, "Link")) page.link = page.link ? *page.link + ", " + value : value;
        if (const auto target = next_link(response.headers)) {
            page.next = resolve_link(*url, *target);
            if (fetched.contains(*page.next))
                throw std::runtime_error("GET " + *url + ": the Link header leads back to " +
                                         *page.next + ", a page already fetched");
        }
        all.insert(all.end(), page.repositories.begin(), page.repositories.end());
        if (on_page) on_page(page);
        url = page.next;
    }
    return all;
}

std::vector<std::string> list_tags(RegistryClient& client, std::string_view repository) {
    const Request request{.method = "GET", .url = client.url(repository, "tags/list")};
    const Response response = client.http().perform(request);
    if (response.status == 404) {
        const RegistryError error(request, response);
        if (error.code() == "NAME_UNKNOWN") return {};
        throw error;
    }
    if (response.status != 200) throw RegistryError(request, response);
    return string_array(request, parse_body(request, response), "tags");
}

ManifestSummary head_manifest(RegistryClient& client, std::string_view repository,
                              std::string_view reference) {
    Request request{.method = "HEAD",
                    .url = client.url(repository, "manifests/" + std::string(reference))};
    request.headers.add("Accept", accept_all_manifests());
    const Response response = expect_ok(client, request);
    const auto digest = response.headers.get("Docker-Content-Digest");
    const auto length = response.headers.get("Content-Length");
    if (!digest || !length)
        throw std::runtime_error("HEAD " + request.url +
                                 ": no Docker-Content-Digest or Content-Length in the answer");
    std::uint64_t size = 0;
    try {
        size = std::stoull(*length);
    } catch (const std::exception&) {
        throw std::runtime_error("HEAD " + request.url + ": Content-Length '" + *length +
                                 "' is not a number");
    }
    return ManifestSummary{.digest = Digest::parse(*digest),
                           .media_type = response.headers.get("Content-Type").value_or(""),
                           .size = size};
}

}  // namespace wbclient
