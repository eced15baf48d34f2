#include "workload.hpp"

#include "regclient/digest.hpp"
#include "regclient/image_builder.hpp"
#include "regclient/oci_layout.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>

namespace bench {
namespace fs = std::filesystem;

std::uint64_t BenchImage::total_bytes() const {
    std::uint64_t total = manifest.size;
    for (const auto& blob : blobs) total += blob.size;
    return total;
}

namespace {

struct ArchiveFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

void check(archive* a, int status, const char* what) {
    if (status < ARCHIVE_OK)
        throw std::runtime_error(std::string("libarchive: ") + what + ": " +
                                 (archive_error_string(a) ? archive_error_string(a) : "error"));
}

// The same two stages as regclient::LayerBuilder (tar, hashed for the diff_id, into gzip,
// hashed for the blob digest), but fed from a generator instead of a file, and with the
// compression level set: LayerBuilder's default level would take minutes on random bytes.
struct GzipStage {
    std::ofstream file;
    regclient::Sha256 hash;
    std::uint64_t size = 0;
    ArchivePtr writer{archive_write_new()};
    static la_ssize_t write(archive*, void* self, const void* data, size_t length) {
        auto& stage = *static_cast<GzipStage*>(self);
        stage.hash.update(data, length);
        stage.size += length;
        stage.file.write(static_cast<const char*>(data), static_cast<std::streamsize>(length));
        return stage.file ? static_cast<la_ssize_t>(length) : -1;
    }
};
struct TarStage {
    GzipStage* gzip;
    regclient::Sha256 hash;
    static la_ssize_t write(archive*, void* self, const void* data, size_t length) {
        auto& stage = *static_cast<TarStage*>(self);
        stage.hash.update(data, length);
        const la_ssize_t written = archive_write_data(stage.gzip->writer.get(), data, length);
        return written == static_cast<la_ssize_t>(length) ? written : -1;
    }
};

regclient::BuiltLayer write_layer(const fs::path& output, const std::string& name,
                                  std::uint64_t bytes, std::uint64_t seed) {
    GzipStage gzip;
    gzip.file.open(output, std::ios::binary | std::ios::trunc);
    if (!gzip.file) throw std::runtime_error("cannot create " + output.string());
    archive* gz = gzip.writer.get();
    check(gz, archive_write_set_format_raw(gz), "raw format");
    check(gz, archive_write_add_filter_gzip(gz), "gzip filter");
    check(gz, archive_write_set_filter_option(gz, "gzip", "compression-level", "0"), "level");
    check(gz, archive_write_set_filter_option(gz, "gzip", "timestamp", nullptr), "timestamp");
    check(gz, archive_write_set_bytes_in_last_block(gz, 1), "block padding");
    check(gz, archive_write_open(gz, &gzip, nullptr, &GzipStage::write, nullptr), "open gzip");
    {
        std::unique_ptr<archive_entry, EntryFree> raw(archive_entry_new());
        archive_entry_set_filetype(raw.get(), AE_IFREG);
        archive_entry_set_pathname(raw.get(), "layer.tar");
        check(gz, archive_write_header(gz, raw.get()), "gzip header");
    }
    TarStage tar_stage{&gzip, {}};
    ArchivePtr tar(archive_write_new());
    check(tar.get(), archive_write_set_format_pax_restricted(tar.get()), "tar format");
    check(tar.get(), archive_write_open(tar.get(), &tar_stage, nullptr, &TarStage::write, nullptr),
          "open tar");
    std::unique_ptr<archive_entry, EntryFree> header(archive_entry_new());
    archive_entry_set_pathname(header.get(), name.c_str());
    archive_entry_set_filetype(header.get(), AE_IFREG);
    archive_entry_set_perm(header.get(), 0644);
    archive_entry_set_mtime(header.get(), 0, 0);
    archive_entry_set_size(header.get(), static_cast<la_int64_t>(bytes));
    check(tar.get(), archive_write_header(tar.get(), header.get()), name.c_str());

    // A fixed-seed Mersenne Twister: the same bytes on every machine, and gzip finds nothing
    // to squeeze in them.
    std::mt19937_64 random(seed);
    std::vector<std::uint64_t> block(1 << 17);  // 1 MiB
    for (std::uint64_t written = 0; written < bytes;) {
        for (auto& word : block) word = random();
        const std::size_t n = static_cast<std::size_t>(
            std::min<std::uint64_t>(block.size() * sizeof(std::uint64_t), bytes - written));
        if (archive_write_data(tar.get(), block.data(), n) != static_cast<la_ssize_t>(n))
            check(tar.get(), ARCHIVE_FATAL, name.c_str());
        written += n;
    }
    check(tar.get(), archive_write_close(tar.get()), "close tar");
    check(gz, archive_write_close(gz), "close gzip");
    gzip.file.close();
    if (!gzip.file) throw std::runtime_error("cannot write " + output.string());
    return {.file = output,
            .blob = {.media_type = std::string(regclient::media_type::oci_layer_gzip),
                     .digest = gzip.hash.finish(),
                     .size = gzip.size},
            .diff_id = tar_stage.hash.finish()};
}

void write_file(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace

BenchImage generate_image(const fs::path& layout, unsigned layers, std::uint64_t layer_bytes,
                          std::uint64_t seed) {
    fs::remove_all(layout);
    const fs::path blobs = layout / "blobs" / "sha256";
    fs::create_directories(blobs);

    std::vector<regclient::ImageLayer> built;
    for (unsigned n = 0; n < layers; ++n) {
        const std::string name = "bench/data-" + std::to_string(n) + ".bin";
        const fs::path temporary = blobs / ("layer-" + std::to_string(n) + ".partial");
        regclient::BuiltLayer layer = write_layer(temporary, name, layer_bytes, seed * 1000 + n);
        layer.file = blobs / std::string(layer.blob.digest.hex());
        fs::rename(temporary, layer.file);
        built.push_back({std::move(layer), "ADD " + name + " /"});
    }
    regclient::ImageSpec spec;
    spec.labels["org.opencontainers.image.title"] = "registry-workbook-bench";
    const regclient::BuiltImage image = regclient::assemble_image(spec, std::move(built));

    BenchImage result{.layout = layout, .manifest = image.manifest_blob,
                      .manifest_bytes = image.manifest};
    result.blobs.push_back(image.config_blob);
    for (const auto& layer : image.layers) result.blobs.push_back(layer.built.blob);
    write_file(result.blob_file(image.config_blob.digest), image.config);
    write_file(result.manifest_file(), image.manifest);

    nlohmann::json entry = regclient::descriptor_to_json(image.manifest_blob);
    entry["annotations"] = {{"org.opencontainers.image.ref.name", result.tag}};
    const nlohmann::json index = {{"schemaVersion", 2},
                                  {"mediaType", regclient::media_type::oci_index},
                                  {"manifests", nlohmann::json::array({entry})}};
    write_file(layout / "index.json", index.dump());
    write_file(layout / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    // The layout is what every tool reads: prove it whole before timing anything.
    if (regclient::verify_oci_layout(layout) != layers + 2)
        throw std::runtime_error("the generated layout at " + layout.string() + " is incomplete");
    return result;
}

}  // namespace bench
