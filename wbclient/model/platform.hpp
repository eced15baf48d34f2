// Platforms: "os/arch[/variant]" as `docker --platform` takes it, matched the way docker
// matches it, and the choice of one image from a multi-platform index.
#pragma once

#include "wbclient/model/manifest.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// Parses "linux/arm64", "linux/arm/v7", "linux/amd64": two or three parts of letters,
/// digits, '_' and '-'. The result is normalized (see normalize_platform). Throws
/// std::invalid_argument with a one-line reason for anything else.
Platform parse_platform(std::string_view text);

/// "os/architecture[/variant]".
std::string platform_string(const Platform& platform);

/// The spellings docker and containerd treat as the same platform, made one: lower case;
/// x86_64 and x86-64 are amd64, aarch64 is arm64, i386 is 386; arm64's only variant is v8,
/// so "v8" (or "8") is dropped; arm without a variant is arm/v7, armhf is arm/v7, armel
/// arm/v6; amd64/v1 is plain amd64.
Platform normalize_platform(Platform platform);

/// True if `offered` is `wanted` once both are normalized: "linux/arm64" matches an index
/// entry for arm64/v8, and "linux/arm" one for arm/v7.
bool platform_matches(const Platform& wanted, const Platform& offered);

/// The platforms a machine of `wanted` runs, best first, as containerd's platforms.Only
/// (which `docker pull --platform` uses) orders them: `wanted` itself, then older variants of
/// the same architecture (amd64/v3 runs v2 and v1, arm/v7 runs v6 and v5), then the
/// 32-bit sibling (amd64 runs 386, arm64 runs arm/v8 down to arm/v5).
std::vector<Platform> compatible_platforms(const Platform& wanted);

/// Chooses the entry of `index` for `wanted`: the first entry for `wanted` itself, else the
/// first for the next platform in compatible_platforms(). Entries without a platform are
/// never chosen. Throws std::runtime_error naming the platforms the index does have when
/// none fits, and std::invalid_argument if `index` is an image manifest, not an index.
const Descriptor& select_manifest(const Manifest& index, const Platform& wanted);

/// The platform an image config says its files are for: its os, architecture and variant.
/// Throws std::invalid_argument if the config is not JSON or names no os or architecture.
Platform platform_of_config(std::string_view config);

/// The architecture, in the GOARCH spelling, an ELF executable was built for (from its
/// header's e_machine), or nothing if the file is not ELF or the machine is not one we know.
/// Throws std::runtime_error if the file cannot be read.
std::optional<std::string> elf_architecture(const std::filesystem::path& file);

}  // namespace wbclient
