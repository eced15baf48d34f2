// Chapter 01: re-host busybox from the upstream registry, clear the local copy, pull it back.
//
// Usage: 01_rehost_busybox [source [destination [layout-dir]]]
//   e.g. 01_rehost_busybox localhost:5001/library/busybox:latest localhost:5000/my-busybox my-busybox.oci
#include "program_options.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using wbclient::Reference;

int main(int argc, char* argv[]) try {
    if (argc > 4) {
        std::cerr << "usage: " << argv[0] << " [source [destination [layout-dir]]]\n"
                  << "  e.g. " << argv[0]
                  << " localhost:5001/library/busybox:latest localhost:5000/my-busybox my-busybox.oci\n";
        return EXIT_FAILURE;
    }
    //! [references]
    // `docker pull busybox` + `docker tag busybox localhost:5000/my-busybox`, as references.
    const Reference source = Reference::parse(
        argc > 1 ? argv[1] : workbook::default_upstream() + "/library/busybox:latest");
    const Reference destination =
        Reference::parse(argc > 2 ? argv[2] : workbook::default_registry() + "/my-busybox:latest");
    const fs::path layout = argc > 3 ? argv[3] : "my-busybox.oci";
    //! [references]

    //! [copy]
    // `docker push`: every blob the manifest names, then the manifest itself, byte for byte.
    wbclient::RegistryClient upstream(source.registry, workbook::client_options());
    wbclient::RegistryClient local(destination.registry, workbook::client_options());
    std::cout << "Copying " << source.str() << " to " << destination.str() << "\n";
    const wbclient::Digest pushed = wbclient::copy_image(
        upstream, source, local, destination, [](const wbclient::BlobEvent& event) {
            std::cout << "  " << wbclient::to_string(event.action) << " " << event.blob.digest.str() << " ("
                      << event.blob.size << " bytes, " << event.blob.media_type << ")\n";
        });
    std::cout << "Pushed manifest " << pushed.str() << "\n";
    //! [copy]

    //! [clear_cache]
    // `docker image remove`: our local "cache" is an OCI layout folder. Only ever delete one.
    if (fs::exists(layout)) {
        if (!fs::exists(layout / "oci-layout"))
            throw std::runtime_error(layout.string() + " exists and is not an OCI layout; refusing to delete it");
        fs::remove_all(layout);
        std::cout << "Removed the local copy " << layout.string() << "\n";
    }
    //! [clear_cache]

    //! [pull]
    // `docker pull localhost:5000/my-busybox`: into a fresh layout, every byte checked.
    std::cout << "Pulling " << destination.str() << " into " << layout.string() << "\n";
    const wbclient::Digest pulled = wbclient::pull_to_layout(
        local, destination, layout, [](const wbclient::BlobEvent& event) {
            std::cout << "  pulled " << event.blob.digest.str() << " (" << event.blob.size
                      << " bytes)\n";
        });
    const std::size_t verified = wbclient::verify_oci_layout(layout);
    //! [pull]
    std::cout << "Pulled manifest " << pulled.str() << "; " << verified
              << " blobs verified against their digests\n";
    if (pulled != pushed) throw std::runtime_error("pulled a different manifest than was pushed");
    std::cout << "Same digest on both registries: the image was re-hosted unchanged.\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "01_rehost_busybox: " << error.what() << "\n";
    return EXIT_FAILURE;
}
