// Chapter 08's sample file, chunked-upload.bin: which noise it is. The program writes it and
// the chapter's test rebuilds the same bytes from these two numbers (noise.hpp).
#pragma once

#include <cstdint>

namespace workbook {

/// 4.5 MiB: four and a half chunks of 1 MiB, so the last chunk is a short one.
inline constexpr std::uint64_t chunked_upload_sample_size = 4608 * 1024;
inline constexpr std::uint64_t chunked_upload_sample_seed = 8;

}  // namespace workbook
