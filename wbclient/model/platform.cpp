#include "wbclient/model/platform.hpp"

#include "wbclient/model/text.hpp"

#include <elf.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <stdexcept>

namespace wbclient {
namespace {

bool is_platform_part(std::string_view part) {
    return !part.empty() && std::all_of(part.begin(), part.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-';
    });
}

// "v3" -> 3; anything else -> 0.
int variant_number(std::string_view variant) {
    if (variant.size() < 2 || variant[0] != 'v') return 0;
    int number = 0;
    for (const char c : variant.substr(1)) {
        if (!std::isdigit(static_cast<unsigned char>(c)) || number > 100) return 0;
        number = number * 10 + (c - '0');
    }
    return number;
}

}  // namespace

Platform parse_platform(std::string_view text) {
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
        const std::size_t slash = text.find('/', start);
        parts.emplace_back(text.substr(start, slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    const bool well_formed =
        (parts.size() == 2 || parts.size() == 3) && std::all_of(parts.begin(), parts.end(), is_platform_part);
    if (!well_formed)
        throw std::invalid_argument("platform '" + printable(text, 100) +
                                    "' is not os/architecture[/variant], e.g. linux/arm64");
    return normalize_platform(
        Platform{.os = parts[0], .architecture = parts[1], .variant = parts.size() == 3 ? parts[2] : ""});
}

std::string platform_string(const Platform& platform) {
    std::string text = platform.os + "/" + platform.architecture;
    if (!platform.variant.empty()) text += "/" + platform.variant;
    return text;
}

Platform normalize_platform(Platform platform) {
    platform.os = lower(platform.os);
    if (platform.os == "macos") platform.os = "darwin";
    std::string& arch = platform.architecture;
    std::string& variant = platform.variant;
    arch = lower(arch);
    variant = lower(variant);
    if (arch == "i386") {
        arch = "386";
        variant.clear();
    } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
        arch = "amd64";
        if (variant == "v1") variant.clear();
    } else if (arch == "aarch64" || arch == "arm64") {
        arch = "arm64";
        if (variant == "8" || variant == "v8") variant.clear();
    } else if (arch == "armhf") {
        arch = "arm";
        variant = "v7";
    } else if (arch == "armel") {
        arch = "arm";
        variant = "v6";
    } else if (arch == "arm") {
        if (variant.empty() || variant == "7") variant = "v7";
        else if (variant == "5" || variant == "6" || variant == "8") variant = "v" + variant;
    }
    return platform;
}

bool platform_matches(const Platform& wanted, const Platform& offered) {
    const Platform a = normalize_platform(wanted);
    const Platform b = normalize_platform(offered);
    return a.os == b.os && a.architecture == b.architecture && a.variant == b.variant;
}

std::vector<Platform> compatible_platforms(const Platform& wanted) {
    const Platform platform = normalize_platform(wanted);
    std::vector<Platform> order{platform};
    const auto add = [&](std::string arch, std::string variant) {
        order.push_back(normalize_platform({platform.os, std::move(arch), std::move(variant)}));
    };
    if (platform.architecture == "amd64") {
        for (int v = variant_number(platform.variant) - 1; v >= 1; --v) add("amd64", "v" + std::to_string(v));
        add("386", "");
    } else if (platform.architecture == "arm") {
        for (int v = variant_number(platform.variant) - 1; v >= 5; --v) add("arm", "v" + std::to_string(v));
    } else if (platform.architecture == "arm64") {
        for (int v = 8; v >= 5; --v) add("arm", "v" + std::to_string(v));
    }
    return order;
}

const Descriptor& select_manifest(const Manifest& index, const Platform& wanted) {
    if (!index.is_index())
        throw std::invalid_argument("a " + index.media_type + " is one image, not an index of platforms");
    for (const Platform& candidate : compatible_platforms(wanted))
        for (const Descriptor& entry : index.manifests)
            if (entry.platform && platform_matches(candidate, *entry.platform)) return entry;
    std::string offered;
    for (const Descriptor& entry : index.manifests)
        offered += (offered.empty() ? "" : ", ") + (entry.platform ? platform_string(*entry.platform) : "(none)");
    throw std::runtime_error("the index has no image for " + platform_string(normalize_platform(wanted)) +
                             ", only for " + (offered.empty() ? "nothing" : offered));
}

Platform platform_of_config(std::string_view config) {
    const auto json = nlohmann::json::parse(config, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) throw std::invalid_argument("the image config is not a JSON object");
    const auto text = [&](const char* key) {
        const auto found = json.find(key);
        return found != json.end() && found->is_string() ? found->get<std::string>() : "";
    };
    Platform platform{.os = text("os"), .architecture = text("architecture"), .variant = text("variant")};
    if (platform.os.empty() || platform.architecture.empty())
        throw std::invalid_argument("the image config names no os or no architecture");
    return platform;
}

std::optional<std::string> elf_architecture(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    // e_ident and e_machine sit at the same offsets in 32- and 64-bit ELF headers.
    std::array<unsigned char, EI_NIDENT + 4> header{};
    if (!in.read(reinterpret_cast<char*>(header.data()), header.size())) return std::nullopt;
    if (header[EI_MAG0] != ELFMAG0 || header[EI_MAG1] != ELFMAG1 || header[EI_MAG2] != ELFMAG2 ||
        header[EI_MAG3] != ELFMAG3)
        return std::nullopt;
    const bool little_endian = header[EI_DATA] == ELFDATA2LSB;
    const bool is_64_bit = header[EI_CLASS] == ELFCLASS64;
    const unsigned char* machine = header.data() + EI_NIDENT + 2;  // after e_type
    const unsigned e_machine = little_endian ? machine[0] | (machine[1] << 8) : (machine[0] << 8) | machine[1];
    switch (e_machine) {
        case EM_X86_64: return "amd64";
        case EM_AARCH64: return "arm64";
        case EM_ARM: return "arm";
        case EM_386: return "386";
        case EM_PPC64: return little_endian ? "ppc64le" : "ppc64";
        case EM_S390: return is_64_bit ? std::optional<std::string>("s390x") : std::nullopt;
        case EM_RISCV: return is_64_bit ? std::optional<std::string>("riscv64") : std::nullopt;
        default: return std::nullopt;
    }
}

}  // namespace wbclient
