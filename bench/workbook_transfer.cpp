// workbook_transfer: push, pull and copy whole images with the wbclient library, as a process
// of its own, so the benchmark times it the way it times skopeo and curl.
//
// Usage: workbook_transfer [--parallel N] push <oci-layout> <reference>
//        workbook_transfer [--parallel N] pull <reference> <new-oci-layout>
//        workbook_transfer [--parallel N] copy <source-reference> <destination-reference>
//        workbook_transfer heads <reference> <count>
// e.g.   workbook_transfer push image-layout localhost:5000/bench/image:latest
#include "program_options.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/model/reference.hpp"
#include "wbclient/distribution/registry_client.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using wbclient::Reference;
using wbclient::RegistryClient;

namespace {

constexpr const char* usage =
    "usage: workbook_transfer [--parallel N] push <oci-layout> <reference> | "
    "pull <reference> <new-oci-layout> | copy <source-reference> <destination-reference> | "
    "heads <reference> <count>";

unsigned parse_count(const std::string& text, const char* what, unsigned limit) {
    std::size_t used = 0;
    unsigned long value = 0;
    try {
        value = std::stoul(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || text.empty() || text[0] == '-' || value == 0 || value > limit)
        throw std::invalid_argument(std::string(what) + " must be a whole number from 1 to " +
                                    std::to_string(limit) + ", not '" + text + "'");
    return static_cast<unsigned>(value);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The cost of one request on a kept-alive connection: the manifest GET opens the connection,
// then `count` HEADs of one blob are timed; the transcript's new_connections says how many
// connections they had to open (0 when every one reused it).
void time_heads(const Reference& image, unsigned count) {
    RegistryClient registry(image.registry, workbook::client_options());
    long opened = 0;
    registry.http().add_observer(
        [&](const wbclient::Exchange& exchange) { opened += exchange.new_connections; });
    const auto manifest = registry.get_manifest(image.repository, image.manifest_reference());
    const auto blobs = manifest.parsed.references();
    if (manifest.parsed.is_index() || blobs.empty())
        throw std::runtime_error(image.str() + " is not an image with blobs");
    const wbclient::Descriptor& blob = blobs.back();
    const long opened_before = opened;
    const auto start = std::chrono::steady_clock::now();
    for (unsigned i = 0; i < count; ++i)
        if (registry.blob_size(image.repository, blob.digest) != blob.size)
            throw std::runtime_error("HEAD " + blob.digest.str() + " did not answer its size");
    const double seconds = seconds_since(start);
    std::printf("%u HEADs of %s: %.1f ms, %.3f ms per request; connections opened: %ld "
                "(%ld during the HEADs)\n",
                count, blob.digest.str().c_str(), seconds * 1e3, seconds * 1e3 / count, opened,
                opened - opened_before);
}

}  // namespace

int main(int argc, char** argv) try {
    std::vector<std::string> args(argv + 1, argv + argc);
    wbclient::TransferOptions options;
    if (!args.empty() && args[0] == "--parallel") {
        if (args.size() < 2) throw std::invalid_argument("--parallel needs a number");
        options.parallel_blobs = parse_count(args[1], "--parallel", 64);
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.size() != 3) throw std::invalid_argument(usage);
    const std::string& command = args[0];
    const auto reference = [](const std::string& text) {
        return Reference::parse(text, workbook::default_registry());
    };
    const auto start = std::chrono::steady_clock::now();

    if (command == "push") {
        const fs::path layout = args[1];
        if (!fs::exists(layout / "oci-layout") || !fs::exists(layout / "index.json"))
            throw std::runtime_error(layout.string() + " is not an OCI layout");
        const Reference destination = reference(args[2]);
        RegistryClient registry(destination.registry, workbook::client_options());
        const auto digest = wbclient::push_layout(registry, layout, destination, options);
        std::printf("pushed %s to %s (%s) in %.3f s\n", layout.c_str(),
                    destination.str().c_str(), digest.str().c_str(), seconds_since(start));
    } else if (command == "pull") {
        const Reference image = reference(args[1]);
        const fs::path layout = args[2];
        RegistryClient registry(image.registry, workbook::client_options());
        const auto digest = wbclient::pull_to_layout(registry, image, layout, options);
        std::printf("pulled %s (%s) into %s, every blob verified, in %.3f s\n",
                    image.str().c_str(), digest.str().c_str(), layout.c_str(),
                    seconds_since(start));
    } else if (command == "copy") {
        const Reference source = reference(args[1]);
        const Reference destination = reference(args[2]);
        RegistryClient from(source.registry, workbook::client_options());
        RegistryClient to(destination.registry, workbook::client_options());
        const auto digest = wbclient::copy_image(from, source, to, destination, options);
        std::printf("copied %s to %s (%s) in %.3f s\n", source.str().c_str(),
                    destination.str().c_str(), digest.str().c_str(), seconds_since(start));
    } else if (command == "heads") {
        time_heads(reference(args[1]), parse_count(args[2], "the count", 1000000));
    } else {
        throw std::invalid_argument("unknown command '" + command + "'; " + usage);
    }
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "workbook_transfer: " << error.what() << '\n';
    return EXIT_FAILURE;
}
