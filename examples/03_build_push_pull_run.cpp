// Chapter 03: build an image from scratch in C++, push it, pull it back, unpack it and run it.
//
// Usage: 03_build_push_pull_run [--docker] [--label key=value]... [--add folder] [image [workdir]]
//   e.g. 03_build_push_pull_run --label org.opencontainers.image.title=hello localhost:5000/hello-workbook:latest hello-workbook
#include "program_options.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/image/layer_extractor.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <boost/process.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

namespace fs = std::filesystem;
using namespace wbclient;

namespace {

// The static program the build compiled for this image (examples/hello/hello.c), unless
// WORKBOOK_HELLO_PROGRAM names a copy of it elsewhere.
const fs::path hello_program = workbook::environment_value("WORKBOOK_HELLO_PROGRAM").empty()
                                   ? fs::path(WORKBOOK_HELLO_PROGRAM)
                                   : fs::path(workbook::environment_value("WORKBOOK_HELLO_PROGRAM"));

struct Options {
    ImageSpec spec;
    std::optional<fs::path> add;
    std::vector<std::string> positional;
};

Options parse_options(int argc, char* argv[]) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--docker") {
            options.spec.format = ImageFormat::docker_schema2;
        } else if (arg == "--label" && has_value) {
            const std::string label = argv[++i];
            const auto equals = label.find('=');
            if (equals == 0 || equals == std::string::npos)
                throw std::invalid_argument("label '" + label + "' is not key=value");
            options.spec.labels[label.substr(0, equals)] = label.substr(equals + 1);
        } else if (arg == "--add" && has_value) {
            options.add = argv[++i];
        } else if (arg.starts_with("--") || options.positional.size() == 2) {
            throw std::invalid_argument("unexpected argument '" + arg + "'; usage: " + argv[0] +
                                        " [--docker] [--label key=value]... [--add folder] [image [workdir]]");
        } else {
            options.positional.push_back(arg);
        }
    }
    return options;
}

void write_file(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
    if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace

int main(int argc, char* argv[]) try {
    Options options = parse_options(argc, argv);
    const Reference image = Reference::parse(options.positional.size() > 0
                                                 ? options.positional[0]
                                                 : workbook::default_registry() + "/hello-workbook:latest",
                                             workbook::default_registry());
    const fs::path workdir = options.positional.size() > 1 ? options.positional[1] : "hello-workbook";
    // Everything lands in a temporary sibling first; a failure leaves the old folder as it was.
    const bool rerun = fs::exists(workdir / "manifest.json");
    if (fs::exists(fs::symlink_status(workdir)) && !rerun)
        throw std::runtime_error(workdir.string() + " exists and is not this chapter's folder; refusing to replace it");
    StagedDirectory work(workdir, rerun);

    //! [build_layer]
    // One file is a whole image: a static program needs no libc, no shell, no /etc.
    const ImageMediaTypes types = media_types_of(options.spec.format);
    LayerBuilder files;
    files.add_file_from("hello", hello_program, 0755);
    if (options.add) add_directory_tree(files, *options.add);
    const BuiltLayer layer = files.write(work.path() / "layer.tar.gz", types.layer);
    //! [build_layer]
    std::cout << "Built the layer: " << layer.blob.size << " bytes of gzip, digest "
              << layer.blob.digest.str() << "\n  uncompressed tar, its diff_id: " << layer.diff_id.str() << "\n";

    //! [config_and_manifest]
    options.spec.cmd = {"/hello"};
    options.spec.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    const BuiltImage built = assemble_image(
        options.spec, {{layer, "COPY hello /hello # a static C program, built by the workbook"}});
    //! [config_and_manifest]
    write_file(work.path() / "config.json", built.config);
    write_file(work.path() / "manifest.json", built.manifest);
    std::cout << "The config, " << built.config_blob.digest.str() << ":\n  " << built.config
              << "\nThe manifest, " << built.manifest_blob.digest.str() << ":\n" << built.manifest << "\n";

    //! [push]
    RegistryClient registry(image.registry, workbook::client_options());
    std::cout << "Pushing " << image.str() << "\n";
    const Digest pushed = push_image(registry, image, built, [](const BlobEvent& event) {
        std::cout << "  " << to_string(event.action) << " " << event.blob.digest.str() << " ("
                  << event.blob.size << " bytes, " << event.blob.media_type << ")\n";
    });
    //! [push]
    std::cout << "Pushed manifest " << pushed.str() << "\n";

    //! [pull]
    // Pulled back like any other image, and trusted only after every digest checked out.
    const fs::path layout = work.path() / "pulled.oci";
    const Digest pulled = pull_to_layout(registry, image, layout);
    const std::size_t verified = verify_oci_layout(layout);
    if (pulled != pushed) throw std::runtime_error("pulled " + pulled.str() + ", pushed " + pushed.str());
    //! [pull]
    std::cout << "Pulled it into " << (workdir / "pulled.oci").string() << ": manifest " << pulled.str()
              << ", " << verified << " blobs verified against their digests\n";

    //! [extract]
    // Unpack the layer the registry gave back, and compare it with what went in.
    const fs::path pulled_layer = layout / "blobs" / "sha256" / std::string(layer.blob.digest.hex());
    const ExtractedLayer rootfs = extract_layer(pulled_layer, work.path() / "rootfs");
    std::vector<std::pair<std::string, fs::path>> originals{{"hello", hello_program}};
    if (options.add)
        for (const auto& entry : fs::recursive_directory_iterator(*options.add))
            if (entry.is_regular_file() && !entry.is_symlink())
                originals.emplace_back(entry.path().lexically_relative(*options.add).generic_string(), entry.path());
    for (const auto& [name, original] : originals)
        if (!same_contents(work.path() / "rootfs" / name, original))
            throw std::runtime_error("rootfs/" + name + " differs from " + original.string());
    //! [extract]
    std::cout << "Extracted the layer into " << (workdir / "rootfs").string() << ": " << rootfs.entries
              << (rootfs.entries == 1 ? " entry, " : " entries, ") << rootfs.bytes << " bytes; "
              << originals.size() << " file(s) identical, byte for byte, to what went in\n";
    work.commit();

    //! [run]
    // `docker run` in miniature: start the image's Cmd from its unpacked root.
    namespace bp = boost::process;
    bp::ipstream output;
    bp::child hello((workdir / "rootfs" / "hello").string(), bp::std_out > output);
    std::cout << "Running " << (workdir / "rootfs" / "hello").string() << ":\n";
    for (std::string line; std::getline(output, line);) std::cout << "  " << line << "\n";
    hello.wait();
    //! [run]
    if (hello.exit_code() != 0)
        throw std::runtime_error("hello exited with status " + std::to_string(hello.exit_code()));
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "03_build_push_pull_run: " << error.what() << "\n";
    return EXIT_FAILURE;
}
