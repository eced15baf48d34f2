// Chapter 11: move an image fast: several blobs at once, each in one streamed request, over
// kept-alive connections, skipping what the registry has and mounting what it has elsewhere.
//
// Usage: 11_fast_transfers [registry [workdir]]
//   e.g. 11_fast_transfers localhost:5000 fast-transfers
#include "noise.hpp"
#include "program_options.hpp"
#include "wbclient/image/built_image_layout.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using namespace wbclient;

namespace {

// Four layers of 3 MiB of noise, the same on every run: gzip cannot shrink them, so every
// byte has to travel, and the digests never change.
BuiltImage build_noise_image(const fs::path& workdir) {
    std::vector<ImageLayer> layers;
    for (unsigned seed = 1; seed <= 4; ++seed) {
        LayerBuilder layer;
        layer.add_file("noise/" + std::to_string(seed) + ".bin", workbook::noise(3 << 20, seed));
        const BuiltLayer built = layer.write(workdir / ("layer-" + std::to_string(seed) + ".tar.gz"));
        layers.push_back({built, "noise layer " + std::to_string(seed)});
    }
    return assemble_image(ImageSpec{.cmd = {"/bin/true"}}, std::move(layers));
}

// Only ever delete what is an OCI layout: a folder of the same name might be the reader's.
void remove_layout(const fs::path& layout) {
    if (!fs::exists(layout)) return;
    if (!fs::exists(layout / "oci-layout"))
        throw std::runtime_error(layout.string() + " exists and is not an OCI layout; refusing to delete it");
    fs::remove_all(layout);
}

//! [count_connections]
// Every client made for a worker copies the caller's observers, so one counter sees them all.
struct ConnectionCount {
    std::atomic<long> requests{0};
    std::atomic<long> connections{0};
    void watch(RegistryClient& client) {
        client.http().add_observer([this](const Exchange& exchange) {
            ++requests;
            connections += exchange.new_connections;
        });
    }
};
//! [count_connections]

}  // namespace

int main(int argc, char* argv[]) try {
    if (argc > 3) {
        std::cerr << "usage: " << argv[0] << " [registry [workdir]]\n"
                  << "  e.g. " << argv[0] << " localhost:5000 fast-transfers\n";
        return EXIT_FAILURE;
    }
    const std::string host = argc > 1 ? argv[1] : workbook::default_registry();
    const fs::path workdir = argc > 2 ? argv[2] : "fast-transfers";
    const auto image = [&](const std::string& repository) {
        return Reference::parse(host + "/" + repository + ":latest");
    };
    const Reference one_by_one = image("fast/one-by-one"), parallel = image("fast/parallel"),
                    mounted = image("fast/mounted");
    RegistryClient registry(host, workbook::client_options());
    ConnectionCount count;
    count.watch(registry);

    // Times one step and reports the requests it made and the connections it opened.
    const auto step = [&](const std::string& what, const auto& action) {
        std::cout << what << "\n";
        const long requests = count.requests, connections = count.connections;
        const auto start = std::chrono::steady_clock::now();
        action();
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        const long opened = count.connections - connections;
        std::cout << "  took " << elapsed.count() << " ms: " << count.requests - requests
                  << " requests, " << opened << " new connection" << (opened == 1 ? "" : "s") << "\n";
    };

    remove_layout(workdir / "built.oci");
    remove_layout(workdir / "pulled.oci");
    fs::create_directories(workdir);
    const BuiltImage built = build_noise_image(workdir);
    write_image_layout(built, workdir / "built.oci", "latest");
    std::cout << "Built " << built.layers.size() << " layers of noise and a config into "
              << (workdir / "built.oci").string() << "\n";
    const auto narrate = [](const BlobEvent& event) {
        std::cout << "  " << to_string(event.action) << " " << event.blob.digest.str().substr(0, 19) << " ("
                  << event.blob.size << " bytes)\n";
    };

    //! [push_sequential]
    // One blob after another: each waits for the one before to be stored.
    step("Pushing one blob at a time to " + one_by_one.str(), [&] {
        push_layout(registry, workdir / "built.oci", one_by_one,
                    TransferOptions{.parallel_blobs = 1, .observe = narrate});
    });
    //! [push_sequential]

    //! [push_parallel]
    // Four workers, each with its own connection: while one blob is being stored and hashed
    // by the registry, the others are on the wire.
    step("Pushing four blobs at a time to " + parallel.str(), [&] {
        push_layout(registry, workdir / "built.oci", parallel,
                    TransferOptions{.parallel_blobs = 4, .observe = narrate});
    });
    //! [push_parallel]

    //! [push_again]
    // The registry has every blob now: a HEAD each, no byte sent, then the manifest.
    step("Pushing again to " + parallel.str(), [&] {
        push_layout(registry, workdir / "built.oci", parallel, TransferOptions{.observe = narrate});
    });
    //! [push_again]

    //! [pull_parallel]
    // Written to files while being hashed; the layout appears only when all of it verified.
    Digest pulled = built.manifest_blob.digest;
    step("Pulling " + parallel.str() + " into " + (workdir / "pulled.oci").string(), [&] {
        pulled = pull_to_layout(registry, parallel, workdir / "pulled.oci",
                                TransferOptions{.parallel_blobs = 4, .observe = narrate});
    });
    //! [pull_parallel]
    std::cout << "  " << verify_oci_layout(workdir / "pulled.oci")
              << " blobs in the pulled layout verify against their digests\n";

    //! [copy_by_mount]
    // Same registry, another repository: the registry links the blobs it stores, so the copy
    // is a HEAD and a mount per blob and one manifest PUT, whatever the image's size.
    Digest copied = pulled;
    step("Copying " + parallel.str() + " to " + mounted.str(), [&] {
        copied = copy_image(registry, parallel, registry, mounted, TransferOptions{.observe = narrate});
    });
    //! [copy_by_mount]

    if (pulled != built.manifest_blob.digest || copied != pulled)
        throw std::runtime_error("a transfer changed the manifest's digest");
    std::cout << "Every copy has manifest " << copied.str() << "\n"
              << "In all, " << count.requests << " requests over " << count.connections
              << " connections.\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "11_fast_transfers: " << error.what() << "\n";
    return EXIT_FAILURE;
}
