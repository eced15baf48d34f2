// Fuzzes Reference::parse and registry_base_url: image references come from the command line
// and the environment, registry names from WORKBOOK_REGISTRY.
#include "fuzz_common.hpp"

#include "wbclient/http/url.hpp"
#include "wbclient/model/reference.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz::expect_documented_errors(input, [&] {
        const auto ref = wbclient::Reference::parse(input);
        // A parsed reference prints as text that parses back to the same reference.
        const auto again = wbclient::Reference::parse(ref.str());
        if (again.str() != ref.str()) std::abort();
        // Its registry is one registry_base_url accepts.
        (void)wbclient::registry_base_url(ref.registry);
    });
    fuzz::expect_documented_errors(input, [&] { (void)wbclient::registry_base_url(input); });
    // The same text as a default registry for a plain name.
    fuzz::expect_documented_errors(input, [&] {
        (void)wbclient::Reference::parse("library/busybox:latest", input);
    });
    return 0;
}
