#include "wbclient/image/built_image_layout.hpp"

#include "wbclient/image/oci_layout.hpp"

#include <array>
#include <fstream>
#include <stdexcept>

namespace wbclient {

Descriptor write_image_layout(const BuiltImage& image, const std::filesystem::path& layout,
                              const std::string& ref_name) {
    OciLayoutWriter writer(layout);
    for (const ImageLayer& layer : image.layers) {
        const std::filesystem::path& file = layer.built.file;
        writer.add_blob(layer.built.blob, [&](const BodySink& sink) {
            std::ifstream in(file, std::ios::binary);
            if (!in) throw std::runtime_error("cannot open " + file.string());
            std::array<char, 1 << 16> buffer{};
            while (in) {
                in.read(buffer.data(), buffer.size());
                sink(buffer.data(), static_cast<std::size_t>(in.gcount()));
            }
            if (in.bad()) throw std::runtime_error("error reading " + file.string());
        });
    }
    writer.add_blob(image.config_blob, image.config);
    writer.add_blob(image.manifest_blob, image.manifest);
    writer.commit(image.manifest_blob, ref_name);
    return image.manifest_blob;
}

}  // namespace wbclient
