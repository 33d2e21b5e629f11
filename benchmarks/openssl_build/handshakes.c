/* In-memory TLS 1.3 handshakes (ECDSA P-256 server certificate, X25519), timing the server
   side's CPU only: the same C code measures two builds of the same OpenSSL release.

   Built as a program linked to the system's libssl/libcrypto, or as a shared object (-DAS_SO,
   not linked to OpenSSL) that `node` loads with process.dlopen: its constructor then runs
   against Node's statically linked OpenSSL, whose symbols node exports.  See run.sh.

   Environment: HS_CERT, HS_KEY (PEM files), HS_N (handshakes per mode), HS_LABEL.  Prints one
   line per mode: "<label> full|resumed: <µs> us server CPU per handshake (<resumed>/<n> resumed)".
   Each connection: handshake, the client reads the tickets and sends 64 bytes, the server echoes
   them and sends close_notify; the server's SSL_new, SSL_do_handshake, SSL_read/SSL_write,
   SSL_shutdown and SSL_free are timed. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double server_cpu;

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void pump(BIO *from, BIO *to)
{
    char buf[16384];
    int n;
    while ((n = BIO_read(from, buf, sizeof buf)) > 0)
        BIO_write(to, buf, n);
}

static SSL *endpoint(SSL_CTX *ctx, int server)
{
    SSL *s = SSL_new(ctx);
    SSL_set_bio(s, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    if (server)
        SSL_set_accept_state(s);
    else
        SSL_set_connect_state(s);
    return s;
}

/* One connection, offering `offer` if not NULL; returns the client's session (caller frees)
   and sets *resumed. */
static SSL_SESSION *connection(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *offer, int *resumed)
{
    static const char msg[64] = "0123456789012345678901234567890123456789012345678901234567890";
    unsigned char buf[256];
    size_t got;
    double t0 = thread_cpu();
    SSL *s = endpoint(sctx, 1);
    server_cpu += thread_cpu() - t0;
    SSL *c = endpoint(cctx, 0);
    if (offer != NULL)
        SSL_set_session(c, offer);
    int sdone = 0, cdone = 0;
    for (int i = 0; i < 10 && !(sdone && cdone); i++) {
        if (!cdone && SSL_do_handshake(c) == 1)
            cdone = 1;
        pump(SSL_get_wbio(c), SSL_get_rbio(s));
        t0 = thread_cpu();
        if (!sdone && SSL_do_handshake(s) == 1)
            sdone = 1;
        server_cpu += thread_cpu() - t0;
        pump(SSL_get_wbio(s), SSL_get_rbio(c));
    }
    if (!(sdone && cdone)) {
        fprintf(stderr, "handshake failed\n");
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    SSL_read_ex(c, buf, sizeof buf, &got);  /* the tickets (no application data yet) */
    ERR_clear_error();
    SSL_write_ex(c, msg, sizeof msg, &got);
    pump(SSL_get_wbio(c), SSL_get_rbio(s));
    t0 = thread_cpu();
    if (SSL_read_ex(s, buf, sizeof buf, &got) == 1)
        SSL_write_ex(s, buf, got, &got);
    SSL_shutdown(s);
    server_cpu += thread_cpu() - t0;
    pump(SSL_get_wbio(s), SSL_get_rbio(c));
    SSL_read_ex(c, buf, sizeof buf, &got);
    *resumed = SSL_session_reused(c);
    SSL_SESSION *sess = SSL_get1_session(c);
    SSL_free(c);
    t0 = thread_cpu();
    SSL_free(s);
    server_cpu += thread_cpu() - t0;
    return sess;
}

/* A copy of `sess` through its DER form (client side, not timed): a used TLS 1.3 session is not
   offered again, a copy of it is. */
static SSL_SESSION *copy_of(SSL_SESSION *sess)
{
    unsigned char der[4096], *p = der;
    int len = i2d_SSL_SESSION(sess, &p);
    const unsigned char *q = der;
    return len > 0 && len <= (int)sizeof der ? d2i_SSL_SESSION(NULL, &q, len) : NULL;
}

static void run(void)
{
    const char *cert = getenv("HS_CERT"), *key = getenv("HS_KEY");
    const char *label = getenv("HS_LABEL") ? getenv("HS_LABEL") : "?";
    int n = getenv("HS_N") ? atoi(getenv("HS_N")) : 400;
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx = SSL_CTX_new(TLS_client_method());
    if (cert == NULL || key == NULL || sctx == NULL || cctx == NULL
            || SSL_CTX_use_certificate_chain_file(sctx, cert) != 1
            || SSL_CTX_use_PrivateKey_file(sctx, key, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "set HS_CERT and HS_KEY to a P-256 certificate and key\n");
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
    /* Node's server settings (src/crypto/crypto_context.cc): cache mode, release buffers. */
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_CLIENT
                                   | SSL_SESS_CACHE_NO_INTERNAL | SSL_SESS_CACHE_NO_AUTO_CLEAR);
    SSL_CTX_set_mode(sctx, SSL_MODE_RELEASE_BUFFERS);
    for (int mode = 0; mode < 2; mode++) {  /* 0: full handshakes, 1: resumed */
        int resumed = 0, total = 0;
        SSL_SESSION *ticket = NULL;
        for (int i = 0; i < 50 + n; i++) {
            if (i == 50) {
                server_cpu = 0;
                total = 0;
            }
            SSL_SESSION *offer = mode && ticket != NULL ? copy_of(ticket) : NULL;
            SSL_SESSION *got = connection(sctx, cctx, offer, &resumed);
            SSL_SESSION_free(offer);
            total += resumed;
            if (mode && ticket == NULL)
                ticket = got;  /* every later connection offers a fresh copy of it */
            else
                SSL_SESSION_free(got);
        }
        printf("%s %s: %.2f us server CPU per handshake (%d/%d resumed)\n", label,
               mode ? "resumed" : "full", server_cpu / n * 1e6, total, n);
        SSL_SESSION_free(ticket);
    }
    fflush(stdout);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
}

#ifdef AS_SO
__attribute__((constructor)) static void on_load(void) { run(); }
#else
int main(void) { run(); return 0; }
#endif
