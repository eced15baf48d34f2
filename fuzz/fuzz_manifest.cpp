// Fuzzes Manifest::parse: a manifest's bytes and Content-Type come from whoever serves them.
// The first line of the input is the Content-Type, the rest the body.
#include "fuzz_common.hpp"

#include "wbclient/model/manifest.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string_view content_type =
        newline == std::string_view::npos ? std::string_view{} : input.substr(0, newline);
    const std::string_view body =
        newline == std::string_view::npos ? input : input.substr(newline + 1);
    // Messages quote the Content-Type and parts of the body, never the separating newline.
    // A line break spelled as a JSON escape ("a\\nb") is shown as '?' (wbclient::printable),
    // so it excuses nothing (regression seed: corpus/manifest/manifest_multiline_message).
    const std::string quotable = std::string(content_type) + std::string(body);
    fuzz::expect_documented_errors(quotable, [&] {
        const auto manifest = wbclient::Manifest::parse(body, content_type);
        // What parsed is what the type says it is.
        if (manifest.is_index() ? !manifest.layers.empty() || manifest.config
                                : !manifest.manifests.empty() || !manifest.config)
            std::abort();
        // Every descriptor serialises and reads back unchanged.
        for (const auto& descriptor : manifest.references()) {
            const auto back = wbclient::descriptor_from_json(wbclient::descriptor_to_json(descriptor));
            if (back.digest != descriptor.digest || back.size != descriptor.size ||
                back.media_type != descriptor.media_type)
                std::abort();
        }
    });
    return 0;
}
