#include "reference_pages.hpp"

#include "html_text.hpp"

#include <regex>
#include <set>
#include <tuple>

namespace book {
namespace {

// A link to exchange K of chapter NN's summary table: "04 #36".
std::string exchange_link(const std::string& chapter, int number) {
    return "<a class=\"exchange\" href=\"chapter" + chapter + ".html#" + exchange_anchor_prefix(chapter) +
           std::to_string(number) + "\">" + chapter + "&#160;#" + std::to_string(number) + "</a>";
}

// Where something is shown: the first exchange of each chapter that shows it.
struct Places {
    std::map<std::string, int> first_by_chapter;
    void add(const std::string& chapter, int number) { first_by_chapter.try_emplace(chapter, number); }
    std::string html() const {
        std::string links;
        for (const auto& [chapter, number] : first_by_chapter)
            links += (links.empty() ? "" : ", ") + exchange_link(chapter, number);
        return links;
    }
};

}  // namespace

std::string endpoint_template(const harness::ObservedExchange& exchange) {
    static const std::vector<std::pair<std::regex, std::string>> routes = {
        {std::regex("^/v2/$"), "/v2/"},
        {std::regex("^/v2/_catalog$"), "/v2/_catalog"},
        {std::regex("^/v2/.+/tags/list$"), "/v2/<name>/tags/list"},
        {std::regex("^/v2/.+/manifests/sha256:[0-9a-f]{64}$"), "/v2/<name>/manifests/<digest>"},
        {std::regex("^/v2/.+/manifests/[^/]+$"), "/v2/<name>/manifests/<tag>"},
        {std::regex("^/v2/.+/blobs/uploads/$"), "/v2/<name>/blobs/uploads/"},
        {std::regex("^/v2/.+/blobs/uploads/[^/]+$"), "/v2/<name>/blobs/uploads/<uuid>"},
        {std::regex("^/v2/.+/blobs/[^/]+$"), "/v2/<name>/blobs/<digest>"},
        {std::regex("^/v2/.+/referrers/[^/]+$"), "/v2/<name>/referrers/<digest>"},
    };
    const std::string path = exchange.path();
    std::string templated = path;
    for (const auto& [route, form] : routes)
        if (std::regex_match(path, route)) {
            templated = form;
            break;
        }
    // The query's parameters by name (an upload's signed _state is the registry's business).
    const auto query = exchange.uri.find('?');
    if (query != std::string::npos) {
        std::string parameters;
        std::string rest = exchange.uri.substr(query + 1);
        for (std::size_t at = 0; at <= rest.size();) {
            const auto end = std::min(rest.find('&', at), rest.size());
            const std::string name = rest.substr(at, rest.find('=', at) < end ? rest.find('=', at) - at : end - at);
            if (!name.empty() && name != "_state") parameters += (parameters.empty() ? "?" : "&") + name + "=<" + name + ">";
            at = end + 1;
        }
        templated += parameters;
    }
    return templated;
}

std::string endpoints_html(const RecordedChapters& chapters) {
    // (path, method, status) -> where; sorted by path so each resource's endpoints sit together.
    std::map<std::tuple<std::string, std::string, long>, Places> shown;
    for (const auto& [chapter, conversation] : chapters)
        for (const auto& exchange : conversation.exchanges)
            if (exchange.client.status != 0)
                shown[{lifeline_of(exchange.client.host) == "token server" ? "(token server) " + exchange.client.path()
                                                                            : endpoint_template(exchange.client),
                       exchange.client.method, exchange.client.status}]
                    .add(chapter, exchange.number);
    std::string html = "<table class=\"markdownTable reference endpoints\">\n"
                       "<tr><th>method</th><th>path</th><th>status</th><th>shown in (chapter #exchange)</th></tr>\n";
    for (const auto& [key, places] : shown) {
        const auto& [path, method, status] = key;
        html += "<tr><td><code>" + escaped(method) + "</code></td><td class=\"path\"><code>" + escaped(path) +
                "</code></td><td>" + std::to_string(status) + "</td><td>" + places.html() + "</td></tr>\n";
    }
    return html + "</table>\n";
}

std::string error_codes_html(const RecordedChapters& chapters) {
    std::map<std::string, std::map<std::tuple<long, std::string, std::string>, Places>> shown;
    for (const auto& [chapter, conversation] : chapters)
        for (const auto& exchange : conversation.exchanges)
            for (const std::string& code : exchange.error_codes)
                shown[code][{exchange.client.status, exchange.client.method, endpoint_template(exchange.client)}]
                    .add(chapter, exchange.number);
    std::string html = "<table class=\"markdownTable reference error-codes\">\n"
                       "<tr><th>error code</th><th>status</th><th>request</th><th>shown in (chapter #exchange)</th></tr>\n";
    for (const auto& [code, requests] : shown)
        for (const auto& [key, places] : requests) {
            const auto& [status, method, path] = key;
            html += "<tr id=\"error-" + escaped(code) + "\"><td><code>" + escaped(code) + "</code></td><td>" +
                    std::to_string(status) + "</td><td class=\"path\"><code>" + escaped(method + " " + path) +
                    "</code></td><td>" + places.html() + "</td></tr>\n";
        }
    return html + "</table>\n";
}

}  // namespace book
