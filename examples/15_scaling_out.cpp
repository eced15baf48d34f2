// Chapter 15: one registry becomes several. Replicas share one object store (S3: Ceph's
// radosgw here), one Redis cache and one http.secret, behind a balancer (nginx). Whichever
// replica answers, the registry is the same: this program pushes and pulls through the
// balancer, then talks to the replicas one by one to show why that holds.
//
// Usage: 15_scaling_out [--replica HOST:PORT]... [--stranger HOST:PORT] [balancer]
//   e.g. 15_scaling_out --replica localhost:5011 --replica localhost:5012 localhost:5000
// --replica names each replica behind the balancer, in order (they are called replica-1, -2, ...);
// --stranger a registry on the same bucket whose http.secret differs. Without replicas only the
// part through the balancer runs. Defaults: WORKBOOK_REGISTRY (else localhost:5000) for the
// balancer, WORKBOOK_REPLICAS (comma-separated) and WORKBOOK_STRANGER.
#include "noise.hpp"
#include "program_options.hpp"
#include "wbclient/http/url.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/layer_builder.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

namespace fs = std::filesystem;
using namespace wbclient;

namespace {

struct Options {
    std::string balancer = workbook::default_registry();
    std::vector<std::string> replicas = workbook::default_replicas();
    std::string stranger = workbook::default_stranger();
};

Options parse_options(int argc, char* argv[]) {
    Options options;
    bool balancer_given = false, replicas_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--replica" && i + 1 < argc) {
            if (!replicas_given) options.replicas.clear();  // given ones replace WORKBOOK_REPLICAS
            replicas_given = true;
            options.replicas.push_back(argv[++i]);
        } else if (arg == "--stranger" && i + 1 < argc) {
            options.stranger = argv[++i];
        } else if (arg.starts_with("-") || balancer_given) {
            throw std::invalid_argument("unexpected argument '" + arg +
                                        "'; usage: 15_scaling_out [--replica HOST:PORT]... [--stranger HOST:PORT] [balancer]");
        } else {
            options.balancer = arg;
            balancer_given = true;
        }
    }
    return options;
}

struct ScratchFolder {
    fs::path path = fs::temp_directory_path() / ("scaling-out-" + std::to_string(::getpid()));
    ScratchFolder() { fs::create_directories(path); }
    ~ScratchFolder() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

// Names the replicas as the reader knows them: "replica-2" for the second --replica.
struct ReplicaNames {
    std::vector<std::string> addresses;  // host:port, as given
    std::string operator()(const std::string& upstream) const {
        for (std::size_t i = 0; i < addresses.size(); ++i)
            if (Url(registry_base_url(addresses[i])).authority() == Url("http://" + upstream).authority())
                return "replica-" + std::to_string(i + 1);
        return upstream.empty() ? "(no X-Served-By: not through the balancer?)" : upstream;
    }
};

ImageLayer noise_layer(const fs::path& folder, const std::string& file, unsigned kib, unsigned seed) {
    LayerBuilder layer;
    layer.add_file(file, workbook::noise(std::uint64_t{kib} * 1024, seed));
    return {layer.write(folder / (file + ".tar.gz")), "ADD " + file + " /"};
}

// The path of a request without the host, with upload state cut short: what the table shows.
std::string short_path(const std::string& url) {
    std::string path = Url(url).path();
    if (const auto uploads = path.find("/blobs/uploads/"); uploads != std::string::npos)
        path = path.substr(0, uploads + 15) + "<id>";
    if (path.size() > 60) path = path.substr(0, 50) + "..." + path.substr(path.size() - 7);
    return path;
}

// A Location of one replica, sent to another: same path and query (_state included).
std::string on_other_replica(RegistryClient& other, const std::string& location) {
    return Url(other.base_url()).resolve(Url(location).path_and_query()).str();
}

}  // namespace

int main(int argc, char* argv[]) try {
    const Options options = parse_options(argc, argv);
    const ReplicaNames name{options.replicas};
    const ScratchFolder scratch;

    //! [served_by]
    // nginx adds X-Served-By: the replica ($upstream_addr) that answered. An observer on the
    // client notes it for every exchange (the balancer's configuration: add_header X-Served-By).
    struct Served { std::string method, path; long status; std::string replica; };
    std::vector<Served> served;
    ClientOptions client_options = workbook::client_options();
    client_options.observers.push_back([&](const Exchange& exchange) {
        served.push_back({exchange.method, short_path(exchange.url), exchange.status,
                          name(exchange.response_headers.get("X-Served-By").value_or(""))});
    });
    RegistryClient balancer(options.balancer, client_options);
    //! [served_by]

    std::cout << "== Push and pull through the balancer, " << Url(balancer.base_url()).authority() << "\n";
    //! [through_balancer]
    const BuiltImage image = assemble_image({}, {noise_layer(scratch.path, "one.bin", 1024, 151),
                                                 noise_layer(scratch.path, "two.bin", 1024, 152),
                                                 noise_layer(scratch.path, "three.bin", 1024, 153)});
    const Reference reference = Reference::parse(Url(balancer.base_url()).authority() + "/scaling/demo:v1");
    const Digest pushed = push_image(balancer, reference, image);
    const Digest pulled = pull_to_layout(balancer, reference, scratch.path / "pulled");
    //! [through_balancer]
    std::set<std::string> replicas_seen;
    for (const auto& exchange : served) {
        std::cout << std::left << std::setw(5) << exchange.method << std::setw(64) << exchange.path << " "
                  << exchange.status << "  " << exchange.replica << "\n";
        replicas_seen.insert(exchange.replica);
    }
    std::cout << "pushed " << pushed.str() << ", pulled it back and verified every blob: "
              << (pushed == pulled ? "same manifest" : "A DIFFERENT MANIFEST") << "\n"
              << served.size() << " requests, answered by " << replicas_seen.size() << " replica(s)\n";
    if (pushed != pulled) return EXIT_FAILURE;
    if (options.replicas.size() < 2) {
        std::cout << "\n(give two --replica addresses to see one upload cross replicas)\n";
        return EXIT_SUCCESS;
    }

    std::cout << "\n== One chunked upload across two replicas\n";
    //! [across_replicas]
    // Nothing about an upload lives in a replica: its bytes are in the bucket (_uploads/<id>),
    // where it stands is in the Location's _state, signed with http.secret. Any replica with
    // the same secret can take the next request.
    RegistryClient first(options.replicas[0], workbook::client_options());
    RegistryClient second(options.replicas[1], workbook::client_options());
    const std::string chunk_one = workbook::noise(3 * 1024 * 1024, 154), chunk_two = workbook::noise(2 * 1024 * 1024, 155);
    BlobUpload upload = BlobUpload::open(first, "scaling/chunks");          // POST on replica-1
    upload.send_chunk(chunk_one);                                           // PATCH on replica-1
    BlobUpload moved = BlobUpload::resume(second, "scaling/chunks",         // GET on replica-2
                                          on_other_replica(second, upload.location()), upload.offset());
    moved.send_chunk(chunk_two);                                            // PATCH on replica-2
    BlobUpload back = BlobUpload::resume(first, "scaling/chunks",           // GET on replica-1
                                         on_other_replica(first, moved.location()), moved.offset());
    const Digest whole = digest_of(chunk_one + chunk_two);
    back.finish(whole);                                                     // PUT on replica-1
    //! [across_replicas]
    std::cout << "POST and PATCH " << chunk_one.size() << " bytes on replica-1, PATCH " << chunk_two.size()
              << " bytes on replica-2 (it found the first " << moved.offset() - chunk_two.size() << " in the bucket), PUT on replica-1\n"
              << "the blob is " << whole.str() << "\n";

    std::cout << "\n== Read after write: pushed through replica-1, asked of replica-2 at once\n";
    //! [read_after_write]
    const std::string fresh = workbook::noise(512 * 1024, 156);
    first.push_blob("scaling/fresh", fresh);
    const Digest fresh_digest = digest_of(fresh);
    const auto size_on_second = second.blob_size("scaling/fresh", fresh_digest);
    std::string fetched;
    second.fetch_blob("scaling/fresh", descriptor_of("application/octet-stream", fresh),
                      [&](const char* data, std::size_t size) { fetched.append(data, size); });
    //! [read_after_write]
    std::cout << "HEAD on replica-2: " << (size_on_second ? "200, " + std::to_string(*size_on_second) + " bytes" : "404")
              << "; GET on replica-2: " << (digest_of(fetched) == fresh_digest ? "the same bytes" : "DIFFERENT BYTES") << "\n";

    if (!options.stranger.empty()) {
        std::cout << "\n== A replica whose http.secret differs\n";
        //! [stranger]
        // The stranger shares the bucket, not the secret: the _state it is handed does not
        // verify, so it cannot know the offset and refuses the chunk.
        RegistryClient stranger(options.stranger, workbook::client_options());
        BlobUpload started = BlobUpload::open(first, "scaling/stranger");    // POST on replica-1
        Request patch{.method = "PATCH", .url = on_other_replica(stranger, started.location()), .body = "a chunk"};
        patch.headers.add("Content-Type", "application/octet-stream");
        const Response refused = stranger.http().perform(patch);             // PATCH on the stranger
        started.cancel();                                                    // DELETE on replica-1
        //! [stranger]
        std::cout << "PATCH on the stranger: " << refused.status << " " << refused.reason << "\n" << refused.body;
        if (refused.status == 202) {
            std::cout << "the stranger accepted an upload replica-1 signed: the secrets are the same\n";
            return EXIT_FAILURE;
        }
    }
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "15_scaling_out: " << error.what() << "\n";
    return EXIT_FAILURE;
}
