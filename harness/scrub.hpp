// Scrubbing volatile values (ports, dates, UUIDs, upload state) out of recorded output, so the
// book shows what a reader will see and stays the same from build to build.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace harness {

/// Replaces each `from` with its `to`, then dates, UUIDs and `_state` tokens with placeholders.
std::string scrub(std::string text, const std::vector<std::pair<std::string, std::string>>& replacements);

}  // namespace harness
