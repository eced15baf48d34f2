// The http layer's parsers on their own, no registry needed: URLs (wbclient::Url, on
// libcurl's URL API), registry base URLs, and RFC 8288 Link headers.
#include "wbclient/http/link_header.hpp"
#include "wbclient/http/url.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using wbclient::Url;

TEST_CASE("Url: the parts of an absolute http(s) URL", "[library][http]") {
    const Url page("http://127.0.0.1:5000/v2/_catalog?n=2");
    CHECK(page.str() == "http://127.0.0.1:5000/v2/_catalog?n=2");
    CHECK(page.scheme() == "http");
    CHECK(page.host() == "127.0.0.1");
    CHECK(page.port() == 5000);
    CHECK(page.authority() == "127.0.0.1:5000");
    CHECK(page.origin() == "http://127.0.0.1:5000");
    CHECK(page.path() == "/v2/_catalog");
    CHECK(page.query() == "n=2");
    CHECK(page.path_and_query() == "/v2/_catalog?n=2");

    // Scheme and host compare ignoring case: both come back in lower case.
    const Url mixed("HTTPS://Registry.Example/v2/");
    CHECK(mixed.scheme() == "https");
    CHECK(mixed.host() == "registry.example");
    CHECK(mixed.port() == 443);               // the scheme's default ...
    CHECK(mixed.authority() == "registry.example");  // ... which the URL did not write
    CHECK(mixed.origin() == "https://registry.example");
    CHECK(Url("https://registry.example:443/x").origin() == mixed.origin());
    CHECK(Url("http://registry.example:80/").origin() == "http://registry.example");

    // An IPv6 literal keeps its brackets; no path is the path "/".
    const Url loopback("http://[::1]:5000");
    CHECK(loopback.host() == "[::1]");
    CHECK(loopback.port() == 5000);
    CHECK(loopback.authority() == "[::1]:5000");
    CHECK(loopback.path() == "/");
    CHECK(loopback.path_and_query() == "/");
    CHECK(loopback.str() == "http://[::1]:5000/");

    // Percent-encoding is kept as sent: an upload's _state must go back byte for byte.
    CHECK(Url("http://h:1/v2/r/blobs/uploads/u?_state=AB%3D%3D").query() == "_state=AB%3D%3D");
}

TEST_CASE("Url: anything but an absolute http(s) URL is refused with a reason", "[library][http]") {
    for (const char* bad : {"", "localhost:5000", "127.0.0.1:5000/v2/", "/v2/_catalog", "ftp://host/x",
                            "file:///etc/passwd", "http://", "http://host:99999/", "http://host:port/",
                            "mailto:someone@example.com"}) {
        INFO(bad);
        CHECK_THROWS_WITH(Url(bad), Catch::StartsWith("'" + std::string(bad) + "' is not an http(s) URL: "));
    }
    // A NUL would silently cut the text short for libcurl; control characters are not quoted.
    CHECK_THROWS_AS(Url(std::string("http://a\0b/", 11)), std::invalid_argument);
    CHECK_THROWS_WITH(Url("http://a\nb/"), Catch::Contains("'http://a?b/'"));
}

TEST_CASE("Url: a query parameter added, percent-encoded by libcurl", "[library][http]") {
    const Url referrers("http://127.0.0.1:5000/v2/a/referrers/sha256:" + std::string(64, '0'));
    // '+' would read back as a space, '/' and '&' would split the value: all encoded.
    CHECK(referrers.with_query("artifactType", "application/spdx+json").query() ==
          "artifactType=application%2fspdx%2bjson");
    CHECK(referrers.with_query("a", "x&y=z").with_query("b", "1").query() == "a=x%26y%3dz&b=1");
    CHECK(referrers.with_query("a", "b").path() == referrers.path());
}

TEST_CASE("Url: resolving a Link or Location target against the page that sent it", "[library][http]") {
    const Url page("http://127.0.0.1:5000/v2/_catalog?n=2");
    CHECK(page.resolve("/v2/_catalog?last=a&n=2").str() == "http://127.0.0.1:5000/v2/_catalog?last=a&n=2");
    CHECK(page.resolve("?last=a&n=2").str() == "http://127.0.0.1:5000/v2/_catalog?last=a&n=2");
    CHECK(page.resolve("_catalog?last=a").str() == "http://127.0.0.1:5000/v2/_catalog?last=a");
    CHECK(page.resolve("../v2/x").str() == "http://127.0.0.1:5000/v2/x");
    CHECK(page.resolve("https://mirror.example/v2/_catalog").str() == "https://mirror.example/v2/_catalog");
    CHECK(page.resolve("//mirror.example/x").str() == "http://mirror.example/x");
    CHECK(page.resolve("//mirror.example/x").origin() == "http://mirror.example");
    CHECK(page.resolve("HTTP://Mirror.Example:8080/y").origin() == "http://mirror.example:8080");
    CHECK(Url("http://[::1]:5000/v2/").resolve("/v2/_catalog?n=1").str() == "http://[::1]:5000/v2/_catalog?n=1");
    CHECK(Url("http://[::1]:5000").resolve("/v2/").str() == "http://[::1]:5000/v2/");

    // A target on another scheme, or one libcurl cannot read, is refused with both quoted.
    CHECK_THROWS_WITH(page.resolve("ftp://mirror.example/x"), Catch::Contains("is not an http(s) URL"));
    CHECK_THROWS_WITH(page.resolve("//"), Catch::Contains("cannot resolve '//' against " + page.str()));
}

TEST_CASE("registry base URLs: host:port or http(s)://host:port, nothing else", "[library][http]") {
    using wbclient::registry_base_url;
    CHECK(registry_base_url("localhost:5000") == "http://localhost:5000");
    CHECK(registry_base_url("localhost:5000/") == "http://localhost:5000");
    CHECK(registry_base_url("[::1]:5000") == "http://[::1]:5000");
    CHECK(registry_base_url("https://r.example:443/") == "https://r.example:443");
    CHECK(registry_base_url("HTTPS://R.Example") == "https://r.example");
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"ftp://x", "only http:// and https://"},
        {"file:///etc/passwd", "only http:// and https://"},
        {"", "expected host:port"},
        {"localhost:5000/v2/evil", "expected host:port"},
        {"http://localhost:5000/v2/", "expected host:port"},
        {"http://localhost:5000?x", "expected host:port"},
        {"http://user@localhost:5000", "expected host:port"},
        {"http://", "expected host:port"},
        {"localhost:99999", "port '99999' is not a number from 1 to 65535"},
        {"local host:5000", "is not a valid registry host"},
        {"https://local_host", "is not a valid registry host"},
    };
    for (const auto& [text, why] : bad) {
        INFO(text);
        CHECK_THROWS_WITH(registry_base_url(text), Catch::Contains(why));
    }
}

TEST_CASE("Link headers: the parser takes every RFC 8288 form", "[library][http]") {
    using wbclient::parse_link_header;
    const auto plain = parse_link_header(R"(</v2/_catalog?last=b&n=2>; rel="next")");
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].target == "/v2/_catalog?last=b&n=2");
    CHECK(plain[0].relations == std::vector<std::string>{"next"});

    const auto many = parse_link_header(
        R"(<https://r.example/v2/_catalog?n=2>; rel=prev, <https://r.example/v2/_catalog?last=a%2Cb&n=2> ;REL = "Next last"; title="a, b; c")");
    REQUIRE(many.size() == 2);
    CHECK(many[0].relations == std::vector<std::string>{"prev"});
    CHECK(many[1].target == "https://r.example/v2/_catalog?last=a%2Cb&n=2");
    CHECK(many[1].relations == std::vector<std::string>{"next", "last"});

    CHECK(parse_link_header("").empty());
    CHECK(parse_link_header(" , <a>; rel=\"next\" ,").size() == 1);
    CHECK(parse_link_header("<a>; rel=prev; rel=next")[0].relations == std::vector<std::string>{"prev"});
    CHECK_THROWS_WITH(parse_link_header("/v2/_catalog; rel=next"), Catch::Contains("expected '<'"));
    CHECK_THROWS_WITH(parse_link_header("</v2/_catalog; rel=next"), Catch::Contains("no closing '>'"));
    CHECK_THROWS_WITH(parse_link_header(R"(<a>; rel="next)"), Catch::Contains("no closing '\"'"));
    CHECK_THROWS_WITH(parse_link_header("<a> rel=next"), Catch::Contains("expected ',' or ';'"));

    wbclient::Headers headers;
    headers.add("Link", R"(</first>; rel="prev")");
    headers.add("link", R"(</second>; rel="next")");
    CHECK(wbclient::next_link(headers) == "/second");
}
