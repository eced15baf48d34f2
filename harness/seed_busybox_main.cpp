// Pushes the busybox image to a registry: seed_busybox <registry> [repository [tag]]
#include "busybox_image.hpp"

#include <cstdlib>
#include <iostream>

int main(int argc, char* argv[]) try {
    if (argc < 2 || argc > 4) {
        std::cerr << "usage: seed_busybox <registry> [repository [tag]]   e.g. localhost:5001\n";
        return EXIT_FAILURE;
    }
    wbclient::RegistryClient registry(argv[1]);
    const auto digest = harness::seed_busybox(registry, argc > 2 ? argv[2] : "library/busybox",
                                              argc > 3 ? argv[3] : "latest");
    std::cout << digest.str() << "\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "seed_busybox: " << error.what() << "\n";
    return EXIT_FAILURE;
}
