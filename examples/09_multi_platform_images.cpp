// Chapter 09: one image for linux/amd64 and linux/arm64 behind one tag, and a pull that picks one.
//
// Usage: 09_multi_platform_images [--platform os/arch[/variant]] [image [workdir]]
//   e.g. 09_multi_platform_images --platform linux/arm64 localhost:5000/multi-platform-hello:latest multi-platform-hello
#include "program_options.hpp"
#include "wbclient/model/files.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/image/index_builder.hpp"
#include "wbclient/image/layer_extractor.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/platform.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

namespace fs = std::filesystem;
using namespace wbclient;

namespace {

struct PlatformImage {
    Platform platform;
    BuiltImage oci;
    BuiltImage docker;  // the same config and layer, named by Docker's media types
};

//! [build_for]
// Each platform gets files of its own: the amd64 image Debian's static busybox (an amd64
// program), the arm64 one only a script, since no arm64 program can be built here offline.
PlatformImage build_for(const Platform& platform, const fs::path& folder) {
    LayerBuilder files;
    files.add_file("etc/platform", platform_string(platform) + "\n");
    files.add_file("hello.sh", "#!/bin/sh\necho \"hello from $(cat /etc/platform)\"\n", 0755);
    if (platform.architecture == "amd64") {
        if (elf_architecture("/bin/busybox") != "amd64")
            throw std::runtime_error("/bin/busybox is not an amd64 program (Debian's busybox-static)");
        files.add_file_from("bin/busybox", "/bin/busybox", 0755);
        for (const char* applet : {"sh", "cat", "echo"}) files.add_symlink(std::string("bin/") + applet, "busybox");
    }
    const BuiltLayer layer = files.write(folder / (platform.architecture + ".tar.gz"));
    BuiltLayer docker_layer = layer;  // the very same bytes, under Docker's media type
    docker_layer.blob.media_type = media_type::docker_layer_gzip;
    const std::string history = "COPY . / # the files for " + platform_string(platform);
    ImageSpec spec{.os = platform.os, .architecture = platform.architecture, .cmd = {"/bin/sh", "/hello.sh"},
                   .env = {"PATH=/bin"}};
    ImageSpec docker_spec = spec;
    docker_spec.format = ImageFormat::docker_schema2;
    return {platform, assemble_image(spec, {{layer, history}}), assemble_image(docker_spec, {{docker_layer, history}})};
}
//! [build_for]

// GET a manifest with a chosen Accept header, and say what the registry answered.
void ask_with_accept(RegistryClient& registry, const Reference& image, const std::string& reference,
                     const std::string& accept, const std::map<std::string, std::string>& names) {
    Request request{.url = registry.url(image.repository, "manifests/" + reference)};
    request.headers.add("Accept", accept);
    const Response response = registry.http().perform(request);
    std::cout << "GET " << image.repository << "/manifests/" << reference << "\n  with Accept: " << accept
              << "\n  " << response.status << " " << response.reason;
    if (response.status != 200) {
        const auto body = nlohmann::json::parse(response.body, nullptr, false);
        if (body.contains("errors") && !body["errors"].empty())
            std::cout << ", " << body["errors"][0].value("code", "") << ": " << body["errors"][0].value("message", "");
    } else {
        const std::string digest = response.headers.get("Docker-Content-Digest").value_or("?");
        const auto name = names.find(digest);
        std::cout << ", " << response.headers.get("Content-Type").value_or("?") << "\n  " << digest << ": "
                  << (name == names.end() ? "not one we pushed" : name->second);
    }
    std::cout << "\n";
}

void write_file(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary);
    if (!(out << bytes).flush()) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace

int main(int argc, char* argv[]) try {
    std::string platform_text = "linux/arm64";
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--platform" && i + 1 < argc) platform_text = argv[++i];
        else if (arg.starts_with("-") || positional.size() == 2)
            throw std::invalid_argument("unexpected argument '" + arg + "'; usage: " + argv[0] +
                                        " [--platform os/arch[/variant]] [image [workdir]]");
        else positional.push_back(arg);
    }
    const Platform wanted = parse_platform(platform_text);
    const Reference image = Reference::parse(
        positional.size() > 0 ? positional[0] : workbook::default_registry() + "/multi-platform-hello:latest", workbook::default_registry());
    if (image.digest) throw std::invalid_argument("name the image by tag, not by digest: the index is pushed under it");
    const std::string list_tag = image.tag + "-docker";
    const fs::path workdir = positional.size() > 1 ? positional[1] : "multi-platform-hello";
    const bool rerun = fs::exists(workdir / "index.json");
    if (fs::exists(fs::symlink_status(workdir)) && !rerun)
        throw std::runtime_error(workdir.string() + " exists and is not this chapter's folder; refusing to replace it");
    StagedDirectory work(workdir, rerun);

    //! [push_children]
    // The images themselves go up by digest only: no tag names them, only the indexes will.
    std::vector<PlatformImage> images;
    for (const Platform& platform : {Platform{"linux", "amd64", ""}, Platform{"linux", "arm64", "v8"}})
        images.push_back(build_for(platform, work.path()));
    RegistryClient registry(image.registry, workbook::client_options());
    std::vector<Descriptor> oci_children, docker_children;
    for (const PlatformImage& built : images) {
        for (const BuiltImage* format : {&built.oci, &built.docker}) {
            Reference by_digest{.registry = image.registry, .repository = image.repository, .tag = "",
                                .digest = format->manifest_blob.digest};
            push_image(registry, by_digest, *format);
            Descriptor child = format->manifest_blob;
            child.platform = built.platform;
            (format == &built.oci ? oci_children : docker_children).push_back(child);
        }
        std::cout << "Pushed " << platform_string(built.platform) << ": layer " << built.oci.layers[0].built.blob.digest.str()
                  << "\n  OCI manifest " << built.oci.manifest_blob.digest.str()
                  << "\n  schema2 manifest " << built.docker.manifest_blob.digest.str() << "\n";
    }
    //! [push_children]

    //! [push_indexes]
    const BuiltIndex index = assemble_index(IndexFormat::oci_index, oci_children);
    const BuiltIndex list = assemble_index(IndexFormat::docker_manifest_list, docker_children);
    registry.put_manifest(image.repository, image.tag, index.descriptor.media_type, index.bytes);
    registry.put_manifest(image.repository, list_tag, list.descriptor.media_type, list.bytes);
    //! [push_indexes]
    write_file(work.path() / "index.json", index.bytes);
    write_file(work.path() / "manifest-list.json", list.bytes);
    std::cout << "Pushed the OCI index as " << image.str() << ", " << index.descriptor.digest.str() << ":\n"
              << index.bytes << "\nPushed the Docker manifest list as :" << list_tag << ", "
              << list.descriptor.digest.str() << "\n";

    std::map<std::string, std::string> names{{index.descriptor.digest.str(), "the OCI index"},
                                             {list.descriptor.digest.str(), "the manifest list itself"}};
    for (const PlatformImage& built : images) {
        names[built.oci.manifest_blob.digest.str()] = "the " + platform_string(built.platform) + " OCI manifest";
        names[built.docker.manifest_blob.digest.str()] = "the " + platform_string(built.platform) + " schema2 manifest";
    }
    //! [accept]
    // What a client that does not know indexes gets: one image, the list, or nothing.
    const std::string schema2(media_type::docker_manifest), oci_manifest(media_type::oci_manifest);
    ask_with_accept(registry, image, list_tag, schema2, names);
    ask_with_accept(registry, image, list.descriptor.digest.str(), schema2, names);
    ask_with_accept(registry, image, image.tag, oci_manifest + ", " + schema2, names);
    //! [accept]

    //! [select_and_pull]
    // `docker pull --platform`: the index, then the one matching image by digest, nothing else.
    std::cout << "Pulling " << image.str() << " for " << platform_string(wanted) << "\n";
    const FetchedManifest fetched = registry.get_manifest(image.repository, image.tag);
    const Descriptor& chosen = select_manifest(fetched.parsed, wanted);
    std::cout << "  the index offers " << fetched.parsed.manifests.size() << " images; "
              << platform_string(*chosen.platform) << " is " << chosen.digest.str() << "\n";
    Reference child = image;
    child.digest = chosen.digest;
    const fs::path layout = work.path() / "pulled.oci";
    pull_to_layout(registry, child, layout);
    const std::size_t verified = verify_oci_layout(layout);
    //! [select_and_pull]

    //! [check_config]
    // The index's word is checked against the image's own: its config names its platform.
    const Manifest pulled = Manifest::parse(read_file(layout_blob_path(layout, chosen.digest)), chosen.media_type);
    const Platform configured = platform_of_config(read_file(layout_blob_path(layout, pulled.config->digest)));
    if (!platform_matches(*chosen.platform, configured))
        throw std::runtime_error("the index says " + platform_string(*chosen.platform) + ", the config " +
                                 platform_string(configured));
    //! [check_config]
    work.commit();
    std::cout << "Pulled into " << (workdir / "pulled.oci").string() << ": " << verified
              << " blobs verified; the config says " << platform_string(configured) << "\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "09_multi_platform_images: " << error.what() << "\n";
    return EXIT_FAILURE;
}
