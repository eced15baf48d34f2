#include "wbclient/http/url.hpp"

#include "wbclient/model/reference.hpp"
#include "wbclient/model/text.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>

namespace wbclient {
namespace {

struct HandleCleanup {
    void operator()(CURLU* handle) const { curl_url_cleanup(handle); }
};
// One CURLU, released however the function that made it ends.
using UrlHandle = std::unique_ptr<CURLU, HandleCleanup>;

UrlHandle new_handle() {
    CURLU* handle = curl_url();
    if (handle == nullptr) throw std::bad_alloc();
    return UrlHandle(handle);
}

[[noreturn]] void refuse(std::string_view text, std::string_view why) {
    throw std::invalid_argument("'" + printable(text) + "' is not an http(s) URL: " + std::string(why));
}

// curl_url_set with the text as a C string: an embedded NUL would silently cut it short.
CURLUcode set_url(CURLU* handle, std::string_view text, unsigned flags) {
    if (text.find('\0') != std::string_view::npos) return CURLUE_MALFORMED_INPUT;
    return curl_url_set(handle, CURLUPART_URL, std::string(text).c_str(), flags);
}

// One part of the URL in `handle`, or nothing if the URL has none (no query, no port).
std::optional<std::string> part(CURLU* handle, CURLUPart which, unsigned flags = 0) {
    char* text = nullptr;
    const CURLUcode code = curl_url_get(handle, which, &text, flags);
    if (code != CURLUE_OK) return std::nullopt;
    std::string copy(text);
    curl_free(text);
    return copy;
}

}  // namespace

Url::Url(std::string_view text) {
    const UrlHandle handle = new_handle();
    if (const CURLUcode code = set_url(handle.get(), text, 0); code != CURLUE_OK)
        refuse(text, curl_url_strerror(code));
    *this = Url(handle.get(), text);
}

Url::Url(CURLU* handle, std::string_view text) {
    // libcurl knows many schemes (ftp, file, ...); a registry speaks only these two.
    scheme_ = part(handle, CURLUPART_SCHEME).value_or("");
    if (scheme_ != "http" && scheme_ != "https") refuse(text, "the scheme must be http or https");
    const auto host = part(handle, CURLUPART_HOST);
    if (!host || host->empty()) refuse(text, "no host");
    host_ = lower(*host);
    const auto written_port = part(handle, CURLUPART_PORT);
    port_written_ = written_port.has_value();
    // libcurl has checked it is a number from 0 to 65535; its default is 80 or 443.
    port_ = static_cast<std::uint16_t>(
        std::stoul(written_port.value_or(part(handle, CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("0"))));
    path_ = part(handle, CURLUPART_PATH).value_or("/");
    query_ = part(handle, CURLUPART_QUERY).value_or("");
    text_ = part(handle, CURLUPART_URL).value_or(std::string(text));
}

std::string Url::authority() const {
    return port_written_ ? host_ + ":" + std::to_string(port_) : host_;
}

std::string Url::origin() const {
    const bool default_port = port_ == (scheme_ == "https" ? 443 : 80);
    return scheme_ + "://" + host_ + (default_port ? "" : ":" + std::to_string(port_));
}

std::string Url::path_and_query() const { return query_.empty() ? path_ : path_ + "?" + query_; }

Url Url::resolve(std::string_view reference) const {
    const UrlHandle handle = new_handle();
    if (set_url(handle.get(), text_, 0) != CURLUE_OK) refuse(text_, "libcurl cannot read it back");
    // On a handle that holds an absolute URL, libcurl resolves a relative one against it.
    if (const CURLUcode code = set_url(handle.get(), reference, 0); code != CURLUE_OK)
        throw std::invalid_argument("cannot resolve '" + printable(reference) + "' against " + text_ +
                                    ": " + curl_url_strerror(code));
    return Url(handle.get(), reference);
}

Url Url::with_query(std::string_view name, std::string_view value) const {
    const UrlHandle handle = new_handle();
    if (set_url(handle.get(), text_, 0) != CURLUE_OK) refuse(text_, "libcurl cannot read it back");
    // libcurl encodes the value but keeps the first '=' as the separator.
    const std::string pair = std::string(name) + "=" + std::string(value);
    if (pair.find('\0') != std::string::npos ||
        curl_url_set(handle.get(), CURLUPART_QUERY, pair.c_str(), CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
        throw std::invalid_argument("cannot add the query parameter '" + printable(name) + "' to " + text_);
    return Url(handle.get(), text_);
}

std::string registry_base_url(std::string_view registry) {
    const auto expected = [&] {
        return std::invalid_argument("registry '" + printable(registry) +
                                     "': expected host:port or http(s)://host:port");
    };
    // libcurl decides whether the text starts with a scheme: it parses "ftp://x" (to be
    // refused by name) but not "localhost:5000", which it reads as a scheme without "//".
    const UrlHandle handle = new_handle();
    const CURLUcode code = set_url(handle.get(), registry, CURLU_NON_SUPPORT_SCHEME);
    if (code == CURLUE_OK) {
        if (const std::string scheme = part(handle.get(), CURLUPART_SCHEME).value_or("");
            scheme != "http" && scheme != "https")
            throw std::invalid_argument("registry '" + printable(registry) +
                                        "': only http:// and https:// are supported");
        const Url url(registry);
        if (url.path().find_first_not_of('/') != std::string::npos || !url.query().empty() ||
            part(handle.get(), CURLUPART_USER) || part(handle.get(), CURLUPART_FRAGMENT))
            throw expected();
        check_registry_name(registry, url.authority());
        return url.scheme() + "://" + url.authority();
    }
    if (code != CURLUE_BAD_SCHEME && code != CURLUE_BAD_SLASHES) throw expected();
    // No scheme: "host:port", as a reference names its registry, spoken to over plain HTTP.
    std::string_view host = registry;
    while (!host.empty() && host.back() == '/') host.remove_suffix(1);
    if (host.empty() || host.find('/') != std::string_view::npos) throw expected();
    check_registry_name(registry, host);
    const std::string base = "http://" + std::string(host);
    (void)Url(base);  // what libcurl will be given must be a URL to it too
    return base;
}

}  // namespace wbclient
