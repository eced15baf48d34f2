// Platforms on their own, no registry needed: the spellings docker accepts, choosing an
// index's child as containerd does, assembling indexes, and reading a config's or an
// executable's platform. Chapter 09 shows them at work against a registry.
#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/index_builder.hpp"
#include "wbclient/model/digest.hpp"
#include "wbclient/model/manifest.hpp"
#include "wbclient/model/platform.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

TEST_CASE("platforms: strings, matching like --platform, and building indexes", "[library][platform]") {
    using wbclient::Platform;
    using wbclient::platform_string;

    SECTION("parsing normalizes the spellings docker accepts") {
        const std::vector<std::pair<std::string, std::string>> spellings{
            {"linux/amd64", "linux/amd64"},     {"linux/x86_64", "linux/amd64"},  {"Linux/AMD64", "linux/amd64"},
            {"linux/amd64/v1", "linux/amd64"},  {"linux/amd64/v3", "linux/amd64/v3"},
            {"linux/aarch64", "linux/arm64"},   {"linux/arm64/v8", "linux/arm64"}, {"linux/arm64/8", "linux/arm64"},
            {"linux/arm", "linux/arm/v7"},      {"linux/armhf", "linux/arm/v7"},  {"linux/armel", "linux/arm/v6"},
            {"linux/arm/6", "linux/arm/v6"},    {"linux/i386", "linux/386"},      {"windows/amd64", "windows/amd64"},
            {"macos/arm64", "darwin/arm64"},
        };
        for (const auto& [text, expected] : spellings) {
            INFO(text);
            CHECK(platform_string(wbclient::parse_platform(text)) == expected);
        }
        for (const char* bad : {"", "linux", "/", "linux/", "/arm64", "linux/arm64/", "a/b/c/d", "linux/arm 64",
                                "linux/arm64@v8", "linux\\amd64"}) {
            INFO(bad);
            CHECK_THROWS_WITH(wbclient::parse_platform(bad), Catch::Contains("is not os/architecture[/variant]"));
        }
    }

    SECTION("selection: exact first, then what the platform also runs, as containerd orders it") {
        const auto entry = [](const char* digest_char, Platform platform) {
            return wbclient::Descriptor{.media_type = std::string(wbclient::media_type::oci_manifest),
                                         .digest = wbclient::Digest::parse("sha256:" + std::string(64, *digest_char)),
                                         .size = 1,
                                         .platform = platform};
        };
        wbclient::Manifest index{.media_type = std::string(wbclient::media_type::oci_index),
                                  .config = {},
                                  .layers = {},
                                  .manifests = {entry("a", {"linux", "amd64", ""}), entry("b", {"linux", "arm64", "v8"}),
                                                entry("c", {"linux", "arm", "v7"}), entry("d", {"linux", "arm", "v5"}),
                                                entry("e", {"linux", "386", ""})}};
        const auto chosen = [&](const char* wanted) {
            return wbclient::select_manifest(index, wbclient::parse_platform(wanted)).digest.str().substr(7, 1);
        };
        CHECK(chosen("linux/amd64") == "a");
        CHECK(chosen("linux/amd64/v3") == "a");
        CHECK(chosen("linux/x86_64") == "a");
        CHECK(chosen("linux/arm64") == "b");
        CHECK(chosen("linux/arm64/v8") == "b");
        CHECK(chosen("linux/arm") == "c");
        CHECK(chosen("linux/arm/v6") == "d");
        CHECK(chosen("linux/386") == "e");
        CHECK_THROWS_WITH(chosen("linux/s390x"), "the index has no image for linux/s390x, only for linux/amd64, "
                                                 "linux/arm64/v8, linux/arm/v7, linux/arm/v5, linux/386");
        CHECK_THROWS_WITH(chosen("windows/amd64"), Catch::StartsWith("the index has no image for windows/amd64"));
        // Without arm64 in the index, an arm64 machine takes the 32-bit arm image; amd64 takes 386.
        index.manifests.erase(index.manifests.begin(), index.manifests.begin() + 2);
        CHECK(chosen("linux/arm64") == "c");
        CHECK(chosen("linux/amd64") == "e");
        // An entry without a platform is never chosen; an image manifest is not an index.
        index.manifests = {wbclient::Descriptor{.media_type = std::string(wbclient::media_type::oci_manifest),
                                                 .digest = wbclient::digest_of("x"), .size = 1, .platform = {}}};
        CHECK_THROWS_WITH(chosen("linux/amd64"), Catch::EndsWith("only for (none)"));
        index.media_type = wbclient::media_type::oci_manifest;
        CHECK_THROWS_AS(chosen("linux/amd64"), std::invalid_argument);
    }

    SECTION("assemble_index: deterministic bytes; children must have a platform, the right type, no twins") {
        const auto child = [](std::string_view type, const char* content, Platform platform) {
            return wbclient::Descriptor{.media_type = std::string(type), .digest = wbclient::digest_of(content),
                                         .size = 10, .platform = platform};
        };
        const auto oci = wbclient::media_type::oci_manifest;
        const auto docker = wbclient::media_type::docker_manifest;
        const auto built = wbclient::assemble_index(wbclient::IndexFormat::oci_index,
                                                     {child(oci, "a", {"linux", "amd64", ""}), child(oci, "b", {"linux", "arm64", "v8"})});
        CHECK(built.descriptor.digest == wbclient::digest_of(built.bytes));
        CHECK(built.descriptor.size == built.bytes.size());
        CHECK(built.descriptor.media_type == wbclient::media_type::oci_index);
        const auto parsed = wbclient::Manifest::parse(built.bytes, wbclient::media_type::oci_index);
        REQUIRE(parsed.manifests.size() == 2);
        CHECK(platform_string(*parsed.manifests[1].platform) == "linux/arm64/v8");
        CHECK(wbclient::assemble_index(wbclient::IndexFormat::oci_index,
                                        {child(oci, "a", {"linux", "amd64", ""}), child(oci, "b", {"linux", "arm64", "v8"})})
                  .bytes == built.bytes);
        const auto manifest_list = wbclient::assemble_index(wbclient::IndexFormat::docker_manifest_list,
                                                             {child(docker, "a", {"linux", "amd64", ""})});
        CHECK(wbclient::Manifest::parse(manifest_list.bytes, "").media_type == wbclient::media_type::docker_manifest_list);

        CHECK_THROWS_WITH(wbclient::assemble_index(wbclient::IndexFormat::docker_manifest_list,
                                                    {child(oci, "a", {"linux", "amd64", ""})}),
                          Catch::Contains("lists application/vnd.docker.distribution.manifest.v2+json"));
        CHECK_THROWS_WITH(wbclient::assemble_index(wbclient::IndexFormat::oci_index, {child(oci, "a", {"", "amd64", ""})}),
                          Catch::Contains("has no platform"));
        wbclient::Descriptor bare = child(oci, "a", {});
        bare.platform.reset();
        CHECK_THROWS_WITH(wbclient::assemble_index(wbclient::IndexFormat::oci_index, {bare}), Catch::Contains("has no platform"));
        CHECK_THROWS_WITH(wbclient::assemble_index(wbclient::IndexFormat::oci_index,
                                                    {child(oci, "a", {"linux", "arm64", "v8"}), child(oci, "b", {"linux", "aarch64", ""})}),
                          "two children are for linux/aarch64");
    }

    SECTION("a config's platform, and an executable's architecture") {
        CHECK(platform_string(wbclient::platform_of_config(R"({"os":"linux","architecture":"arm","variant":"v7"})")) ==
              "linux/arm/v7");
        CHECK_THROWS_AS(wbclient::platform_of_config(R"({"os":"linux"})"), std::invalid_argument);
        CHECK_THROWS_AS(wbclient::platform_of_config("not json"), std::invalid_argument);
        CHECK(wbclient::elf_architecture("/bin/busybox") == std::string(wbclient::host_architecture()));
        CHECK_FALSE(wbclient::elf_architecture("/etc/os-release").has_value());
        CHECK_THROWS_AS(wbclient::elf_architecture("/nonexistent/file"), std::runtime_error);
    }
}
