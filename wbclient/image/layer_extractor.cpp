#include "wbclient/image/layer_extractor.hpp"

#include "wbclient/image/layer_writer.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <stdexcept>

namespace wbclient {
namespace fs = std::filesystem;

ExtractedLayer extract_layer(const fs::path& layer_file, const fs::path& target,
                             const ExtractionLimits& limits) {
    StagedDirectory staged(target);
    detail::LayerWriter writer(staged.path(), limits);
    writer.apply(layer_file, detail::Whiteouts::as_files);
    writer.check_symlinks("layer " + layer_file.filename().string(), "layer");
    staged.commit();
    return writer.totals();
}

bool same_contents(const fs::path& a, const fs::path& b) {
    std::ifstream first(a, std::ios::binary);
    std::ifstream second(b, std::ios::binary);
    if (!first) throw std::runtime_error("cannot read " + a.string());
    if (!second) throw std::runtime_error("cannot read " + b.string());
    if (fs::file_size(a) != fs::file_size(b)) return false;
    std::array<char, 1 << 16> x{};
    std::array<char, 1 << 16> y{};
    while (first && second) {
        first.read(x.data(), x.size());
        second.read(y.data(), y.size());
        if (first.gcount() != second.gcount() ||
            !std::equal(x.begin(), x.begin() + first.gcount(), y.begin()))
            return false;
    }
    if (first.bad() || second.bad()) throw std::runtime_error("error reading " + a.string() + " or " + b.string());
    return true;
}

}  // namespace wbclient
