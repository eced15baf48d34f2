// Chapter 08: upload a blob in chunks, stop half-way, ask the registry where the upload stands,
// and finish it from there: nothing lost, nothing sent twice.
//
// Usage: 08_chunked_and_resumable_uploads [--chunk-size N] [--stop-after CHUNKS] [--limit-rate N]
//                                         [file [registry/repository]]
//        08_chunked_and_resumable_uploads --resume file.upload.json
//   e.g. 08_chunked_and_resumable_uploads --chunk-size 1M --stop-after 2 big.bin localhost:5000/big
// With no file it sends a generated 4.5 MiB file, interrupts itself after two chunks and resumes.
#include "wbclient/transfer/chunked_upload.hpp"
#include "chunked_upload_sample.hpp"
#include "noise.hpp"
#include "program_options.hpp"
#include "wbclient/transfer/progress.hpp"
#include "wbclient/model/reference.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;
using namespace wbclient;

namespace {

struct Options {
    ChunkPlan plan{.chunk_size = 0};  // 0 until given: 1 MiB, or what a resumed upload used
    std::optional<fs::path> resume;
    std::vector<std::string> positional;
};

Options parse_options(int argc, char* argv[]) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto count = [&] { return parse_byte_count(argv[++i]); };
        if (arg == "--chunk-size" && i + 1 < argc) {
            // A chunk is held in memory while it is sent: beyond 256 MiB that is a mistake.
            if (options.plan.chunk_size = count(); options.plan.chunk_size == 0 || options.plan.chunk_size > (256u << 20))
                throw std::invalid_argument("chunk size must be from 1 byte to 256M, not " + std::string(argv[i]));
        } else if (arg == "--stop-after" && i + 1 < argc) {
            if (options.plan.max_chunks = count(); options.plan.max_chunks == 0)
                throw std::invalid_argument("--stop-after needs at least 1 chunk");
        } else if (arg == "--limit-rate" && i + 1 < argc) {
            options.plan.limit_rate = count();
        } else if (arg == "--resume" && i + 1 < argc && options.positional.empty()) {
            options.resume = argv[++i];
        } else if (arg.starts_with("--") || options.positional.size() == 2 || options.resume) {
            throw std::invalid_argument("unexpected argument '" + arg + "'; usage: " + argv[0] +
                                        " [--chunk-size N] [--stop-after CHUNKS] [--limit-rate N] [file "
                                        "[registry/repository]] | --resume STATEFILE");
        } else {
            options.positional.push_back(arg);
        }
    }
    return options;
}

// The book's sample: 4.5 MiB of noise for seed 8, the same everywhere (see noise.hpp).
fs::path sample_file() {
    const fs::path file = "chunked-upload.bin";
    if (fs::exists(file)) return file;
    workbook::write_noise(file.string() + ".tmp", workbook::chunked_upload_sample_size,
                          workbook::chunked_upload_sample_seed);
    fs::rename(file.string() + ".tmp", file);
    return file;
}

// The protocol by hand, on a small session of its own: what the spec says, what 2.8.2 does.
void show_the_protocol(RegistryClient& client, const std::string& repository) {
    std::cout << "By hand, on a small session of its own:" << std::endl;
    //! [by_hand]
    BlobUpload upload = BlobUpload::open(client, repository);      // POST: 202, Range: 0-0
    const std::string first = upload.location();
    upload.send_chunk("0123456789");                               // PATCH 0-9: 202, Range: 0-9
    // The first Location's _state says offset 0; the registry holds 10 bytes, so it refuses it.
    const Response stale = client.http().perform(Request{.url = first});
    // A chunk claiming bytes 100-109, leaving a gap: the spec says 416.
    const Response gap = upload.patch(100, "abcdefghij");
    upload.refresh();                                              // GET: 204 and where it stands
    upload.cancel();                                               // DELETE: 204
    const Response gone = client.http().perform(Request{.url = upload.location()});
    //! [by_hand]
    const auto state = upload_state_of(first).value_or(nlohmann::json::object());
    std::cout << "The first Location again: " << stale.status << " " << RegistryError({}, stale).code()
              << ": its _state says Offset " << state.value("Offset", -1) << "\nA chunk claiming 100-109: "
              << gap.status << (gap.status == 202 ? ", appended: the registry now holds 0-" : ", as the spec says; held: 0-")
              << upload.offset() - 1 << "\nAfter DELETE: " << gone.status << " " << RegistryError({}, gone).code() << "\n\n";
}

// PATCH after PATCH, then PUT; after each PATCH the newest Location goes to the state file.
bool carry_on(RegistryClient& client, BlobUpload& upload, std::istream& file, Sha256& hash,
              UploadCheckpoint& checkpoint, const fs::path& state_file, const ChunkPlan& plan) {
    ProgressBar bar(checkpoint.file_size, upload.offset());
    //! [chunks]
    const bool sent_all = send_file_in_chunks(upload, file, checkpoint.file_size, hash, plan,
        [&](const BlobUpload& acknowledged, std::uint64_t start, std::uint64_t size) {
            // Saved before anything else: from here on a crash loses nothing the registry holds.
            checkpoint.location = acknowledged.location();
            checkpoint.acknowledged = acknowledged.offset();
            checkpoint.save(state_file);
            bar.clear();
            std::cout << "  sent bytes " << start << "-" << start + size - 1 << "; the registry holds 0-"
                      << acknowledged.offset() - 1 << std::endl;
        },
        [&](std::uint64_t offset) { bar.update(offset); });
    //! [chunks]
    if (!sent_all) {
        std::cout << "Stopped after " << plan.max_chunks << " chunks, as if interrupted; " << state_file.string()
                  << " remembers the upload\n";
        return false;
    }
    //! [finish]
    const Digest digest = hash.finish();  // every byte hashed once, as it was read to be sent
    const std::string blob = upload.finish(digest);                  // PUT ?digest=: 201
    const auto stored = client.blob_size(upload.repository(), digest);  // HEAD: 200
    //! [finish]
    fs::remove(state_file);
    std::cout << "Finished: " << digest.str() << ", " << stored.value_or(0) << " bytes, at " << blob << "\n";
    return true;
}

void resume(const fs::path& state_file, ChunkPlan plan) {
    //! [resume]
    UploadCheckpoint checkpoint = UploadCheckpoint::load(state_file);
    std::ifstream file = checkpoint.open_file();  // refused if it changed since
    RegistryClient client(checkpoint.registry, workbook::client_options());
    // GET the saved Location: 204, and a Range that says what the registry really holds.
    BlobUpload upload = resume_upload(client, checkpoint);
    // The digest of those bytes: re-read from the local file, not sent again.
    Sha256 hash;
    hash_prefix(file, upload.offset(), hash);
    //! [resume]
    std::cout << "Resumed from " << state_file.string() << ": it says " << checkpoint.acknowledged
              << " bytes were acknowledged; the registry holds " << upload.offset() << "; re-read "
              << upload.offset() << " bytes locally to recover the digest so far\n";
    if (plan.chunk_size == 0) plan.chunk_size = checkpoint.chunk_size;
    carry_on(client, upload, file, hash, checkpoint, state_file, plan);
}

}  // namespace

int main(int argc, char* argv[]) try {
    Options options = parse_options(argc, argv);
    if (options.resume) {
        resume(*options.resume, options.plan);
        return EXIT_SUCCESS;
    }
    // With no file, the book's run: the sample, interrupted after two chunks, then resumed.
    const bool book_run = options.positional.empty() && options.plan.max_chunks == 0;
    if (book_run) options.plan.max_chunks = 2;
    if (options.plan.chunk_size == 0) options.plan.chunk_size = 1024 * 1024;
    const fs::path path = options.positional.empty() ? sample_file() : fs::path(options.positional[0]);
    const Reference target = Reference::parse(
        options.positional.size() > 1 ? options.positional[1] : workbook::default_registry() + "/chunked-upload", workbook::default_registry());
    UploadCheckpoint checkpoint = UploadCheckpoint::begin(path, target.registry, target.repository, options.plan.chunk_size);
    std::ifstream file = checkpoint.open_file();
    const fs::path state_file = path.string() + ".upload.json";

    RegistryClient client(target.registry, workbook::client_options());
    show_the_protocol(client, target.repository);
    std::cout << "Sending " << path.string() << " (" << checkpoint.file_size << " bytes) to " << target.registry
              << "/" << target.repository << " in chunks of " << options.plan.chunk_size << " bytes\n";
    //! [open]
    BlobUpload upload = BlobUpload::open(client, target.repository);  // POST: 202
    checkpoint.location = upload.location();
    checkpoint.save(state_file);  // written atomically: a temporary file, then a rename
    Sha256 hash;
    //! [open]
    if (!carry_on(client, upload, file, hash, checkpoint, state_file, options.plan) && book_run) {
        std::cout << "\nResuming as a new process would, with --resume " << state_file.string() << ":\n";
        resume(state_file, {.chunk_size = 0});
    }
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "08_chunked_and_resumable_uploads: " << error.what() << "\n";
    return EXIT_FAILURE;
}
