// Chapter 00: ask a running registry whether it speaks the registry v2 HTTP API.
//
// Usage: 00_run_a_registry [registry]
//   e.g. 00_run_a_registry localhost:5000   (default: $WORKBOOK_REGISTRY or localhost:5000)
#include "program_options.hpp"
#include "wbclient/distribution/registry_client.hpp"

#include <cstdlib>
#include <iostream>

int main(int argc, char* argv[]) try {
    if (argc > 2) {
        std::cerr << "usage: " << argv[0] << " [registry]   e.g. localhost:5000\n";
        return EXIT_FAILURE;
    }
    const std::string registry = argc == 2 ? argv[1] : workbook::default_registry();

    //! [ping]
    // GET /v2/ is the one request every registry answers: 200 means "I speak v2".
    wbclient::RegistryClient client(registry, workbook::client_options());
    const wbclient::Response response = client.ping();
    //! [ping]
    std::cout << "GET " << client.base_url() << "/v2/ answered " << response.status << " "
              << response.reason << "\n";

    //! [api_version]
    // The header, not the body, is the promise: clients check it before anything else.
    const auto version = response.headers.get("Docker-Distribution-Api-Version");
    if (version != "registry/2.0")
        throw std::runtime_error(client.base_url() +
                                 " answered /v2/ without Docker-Distribution-Api-Version: "
                                 "registry/2.0; it is not a v2 registry");
    //! [api_version]
    std::cout << "Docker-Distribution-Api-Version: " << *version << "\n";
    std::cout << "Body: " << response.body << "\n";
    std::cout << "The registry at " << registry << " is up and speaks the v2 API.\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "00_run_a_registry: " << error.what() << "\n";
    return EXIT_FAILURE;
}
