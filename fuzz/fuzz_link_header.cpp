// Fuzzes the Link header parser (parse_link_header, next_link, Url::resolve): the catalog's
// next page is wherever the registry's Link header says.
#include "fuzz_common.hpp"

#include "wbclient/http/link_header.hpp"
#include "wbclient/http/url.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz::expect_documented_errors(input, [&] {
        const auto links = wbclient::parse_link_header(input);
        for (const auto& link : links)
            for (const auto& relation : link.relations)
                if (relation.empty()) std::abort();  // split_relations drops empty ones
    });
    fuzz::expect_documented_errors(input, [&] {
        wbclient::Headers headers;
        headers.add("Content-Type", "application/json");
        headers.add("link", std::string(input));  // names compare case-insensitively
        headers.add("Link", "</v2/_catalog?last=z&n=1>; rel=\"next\"");
        const auto next = wbclient::next_link(headers);
        // The second field always names a next page, so there is one unless the first threw.
        if (!next) std::abort();
        (void)wbclient::Url("http://localhost:5000/v2/_catalog?n=1").resolve(*next);
    });
    fuzz::expect_documented_errors(input, [&] {
        (void)wbclient::Url(input).resolve("/v2/_catalog?last=a&n=2");
    });
    return 0;
}
