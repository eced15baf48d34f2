// Fuzzes the Www-Authenticate parser (parse_challenges, challenges_of): a registry's 401 decides
// where the client asks for a token and for what, so its header is hostile input.
#include "fuzz_common.hpp"

#include "wbclient/http/auth.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz::expect_documented_errors(input, [&] {
        for (const auto& challenge : wbclient::parse_challenges(input)) {
            // A challenge always has a scheme; parameter names are stored lower-cased.
            if (challenge.scheme.empty()) std::abort();
            for (const auto& [name, value] : challenge.parameters)
                for (const char c : name)
                    if (c >= 'A' && c <= 'Z') std::abort();
        }
    });
    fuzz::expect_documented_errors(input, [&] {
        wbclient::Response response;
        response.status = 401;
        response.headers.add("WWW-Authenticate", std::string(input));
        response.headers.add("www-authenticate", "Basic realm=\"registry\"");
        // The second field is always a valid challenge, so there is one unless the first threw.
        if (wbclient::challenges_of(response).empty()) std::abort();
    });
    return 0;
}
