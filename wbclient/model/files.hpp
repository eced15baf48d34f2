// Reading the small files the library keeps beside blobs: index.json, manifests, configs, links.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace wbclient {

/// The whole file; throws with a one-line reason if it cannot be read. For small files only:
/// blobs are streamed, never read whole.
inline std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    if (in.bad()) throw std::runtime_error("error reading " + file.string());
    return bytes;
}

}  // namespace wbclient
