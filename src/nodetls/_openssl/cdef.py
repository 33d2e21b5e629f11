"""C declarations for the OpenSSL 3 functions nodetls calls: one source for both bindings.

ABI mode (:mod:`_loader`) reads them at import; API mode (:mod:`_build`) compiles them against the
headers, so each must also agree with ``openssl/*.h`` (``_build.SOURCE`` casts the typed stacks).
Grouped by OpenSSL header, one prototype per line.  ABI mode reads no headers, so macro values live
in :mod:`constants` and macro functions in :mod:`macros`.  Every symbol here exists in OpenSSL 3.0.
No imports from nodetls: the build script loads this file by path.
"""

import hashlib

TYPES = """
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_method_st SSL_METHOD;
typedef struct ssl_session_st SSL_SESSION;
typedef struct ssl_cipher_st SSL_CIPHER;
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;
typedef struct x509_st X509;
typedef struct x509_store_st X509_STORE;
typedef struct x509_store_ctx_st X509_STORE_CTX;
typedef struct x509_crl_st X509_CRL;
typedef struct X509_name_st X509_NAME;
typedef struct X509_VERIFY_PARAM_st X509_VERIFY_PARAM;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;
typedef struct evp_md_st EVP_MD;
typedef struct PKCS12_st PKCS12;
typedef struct stack_st OPENSSL_STACK;
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;
typedef struct ossl_param_st {
    const char *key;
    unsigned int data_type;
    void *data;
    size_t data_size;
    size_t return_size;
} OSSL_PARAM;
typedef int pem_password_cb(char *buf, int size, int rwflag, void *userdata);
typedef struct buf_mem_st {  /* openssl/buffer.h (public): a memory BIO's buffer */
    size_t length;
    char *data;
    size_t max;
    unsigned long flags;
} BUF_MEM;
"""

FUNCTIONS = """
/* crypto.h */
unsigned long OpenSSL_version_num(void);
const char *OpenSSL_version(int type);
void *CRYPTO_malloc(size_t num, const char *file, int line);
void CRYPTO_free(void *ptr, const char *file, int line);
void CRYPTO_clear_free(void *ptr, size_t num, const char *file, int line);
int CRYPTO_memcmp(const void *a, const void *b, size_t len);

/* err.h */
unsigned long ERR_get_error_all(const char **file, int *line, const char **func,
                                const char **data, int *flags);
unsigned long ERR_peek_error(void);
void ERR_clear_error(void);
const char *ERR_lib_error_string(unsigned long e);
const char *ERR_reason_error_string(unsigned long e);
void ERR_error_string_n(unsigned long e, char *buf, size_t len);

/* rand.h */
int RAND_bytes(unsigned char *buf, int num);

/* bio.h */
const BIO_METHOD *BIO_s_mem(void);
BIO *BIO_new(const BIO_METHOD *type);
BIO *BIO_new_mem_buf(const void *buf, int len);
int BIO_free(BIO *a);
int BIO_read(BIO *b, void *data, int dlen);
int BIO_write(BIO *b, const void *data, int dlen);
int BIO_read_ex(BIO *b, void *data, size_t dlen, size_t *readbytes);
int BIO_write_ex(BIO *b, const void *data, size_t dlen, size_t *written);
long BIO_ctrl(BIO *bp, int cmd, long larg, void *parg);
size_t BIO_ctrl_pending(BIO *b);
size_t BIO_ctrl_wpending(BIO *b);

/* buffer.h */
BUF_MEM *BUF_MEM_new(void);
void BUF_MEM_free(BUF_MEM *a);
BIO *BIO_new_fp(void *stream, int close_flag);
BIO *BIO_new_fd(int fd, int close_flag);

/* stack */
int OPENSSL_sk_num(const OPENSSL_STACK *);
void *OPENSSL_sk_value(const OPENSSL_STACK *, int);
OPENSSL_STACK *OPENSSL_sk_new_null(void);
int OPENSSL_sk_push(OPENSSL_STACK *st, const void *data);
void OPENSSL_sk_free(OPENSSL_STACK *);
void OPENSSL_sk_pop_free(OPENSSL_STACK *st, void (*func)(void *));

/* x509.h */
X509 *PEM_read_bio_X509(BIO *bp, X509 **x, pem_password_cb *cb, void *u);
X509 *PEM_read_bio_X509_AUX(BIO *bp, X509 **x, pem_password_cb *cb, void *u);
X509_CRL *PEM_read_bio_X509_CRL(BIO *bp, X509_CRL **x, pem_password_cb *cb, void *u);
EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u);
EVP_PKEY *PEM_read_bio_Parameters(BIO *bp, EVP_PKEY **x);
X509 *d2i_X509(X509 **a, const unsigned char **in, long len);
int i2d_X509(X509 *a, unsigned char **out);
void X509_free(X509 *a);
int X509_up_ref(X509 *a);
void X509_CRL_free(X509_CRL *a);
X509_NAME *X509_get_subject_name(const X509 *x);
X509_NAME *X509_get_issuer_name(const X509 *x);
int X509_check_issued(X509 *issuer, X509 *subject);
const char *X509_verify_cert_error_string(long n);
EVP_PKEY *X509_get0_pubkey(const X509 *x);

X509_STORE *X509_STORE_new(void);
void X509_STORE_free(X509_STORE *v);
int X509_STORE_up_ref(X509_STORE *v);
int X509_STORE_add_cert(X509_STORE *ctx, X509 *x);
int X509_STORE_add_crl(X509_STORE *ctx, X509_CRL *x);
int X509_STORE_set_flags(X509_STORE *ctx, unsigned long flags);
int X509_STORE_CTX_get_error(X509_STORE_CTX *ctx);
int X509_STORE_CTX_get_error_depth(X509_STORE_CTX *ctx);
void X509_STORE_CTX_set_error(X509_STORE_CTX *ctx, int s);
int X509_verify_cert(X509_STORE_CTX *ctx);
void X509_STORE_CTX_set_verify_cb(X509_STORE_CTX *ctx, int (*verify_cb)(int, X509_STORE_CTX *));
X509 *X509_STORE_CTX_get_current_cert(const X509_STORE_CTX *ctx);
OPENSSL_STACK *X509_STORE_CTX_get0_chain(const X509_STORE_CTX *ctx);
void *X509_STORE_CTX_get_ex_data(X509_STORE_CTX *ctx, int idx);
int SSL_get_ex_data_X509_STORE_CTX_idx(void);
X509_VERIFY_PARAM *SSL_get0_param(SSL *ssl);
int X509_VERIFY_PARAM_set1_host(X509_VERIFY_PARAM *param, const char *name, size_t namelen);

/* evp.h */
void EVP_PKEY_free(EVP_PKEY *pkey);
int EVP_PKEY_get_id(const EVP_PKEY *pkey);
int EVP_PKEY_get_bits(const EVP_PKEY *pkey);
int EVP_PKEY_get_base_id(const EVP_PKEY *pkey);
int EVP_PKEY_get_group_name(const EVP_PKEY *pkey, char *name, size_t name_sz, size_t *gname_len);
const EVP_CIPHER *EVP_aes_128_cbc(void);
const EVP_CIPHER *EVP_aes_256_cbc(void);
int EVP_EncryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, void *impl,
                       const unsigned char *key, const unsigned char *iv);
int EVP_DecryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, void *impl,
                       const unsigned char *key, const unsigned char *iv);
int EVP_MAC_CTX_set_params(EVP_MAC_CTX *ctx, const OSSL_PARAM params[]);
const EVP_MD *EVP_sha256(void);

/* pkcs12.h */
PKCS12 *d2i_PKCS12_bio(BIO *bp, PKCS12 **p12);
int PKCS12_parse(PKCS12 *p12, const char *pass, EVP_PKEY **pkey, X509 **cert, OPENSSL_STACK **ca);
void PKCS12_free(PKCS12 *a);

/* ssl.h: methods and contexts */
const SSL_METHOD *TLS_method(void);
const SSL_METHOD *TLS_server_method(void);
const SSL_METHOD *TLS_client_method(void);
SSL_CTX *SSL_CTX_new(const SSL_METHOD *meth);
void SSL_CTX_free(SSL_CTX *ctx);
int SSL_CTX_up_ref(SSL_CTX *ctx);
long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg);
long SSL_CTX_callback_ctrl(SSL_CTX *ctx, int cmd, void (*fp)(void));
uint64_t SSL_CTX_set_options(SSL_CTX *ctx, uint64_t op);
uint64_t SSL_CTX_clear_options(SSL_CTX *ctx, uint64_t op);
uint64_t SSL_CTX_get_options(const SSL_CTX *ctx);
int SSL_CTX_use_certificate(SSL_CTX *ctx, X509 *x);
int SSL_CTX_use_PrivateKey(SSL_CTX *ctx, EVP_PKEY *pkey);
int SSL_CTX_check_private_key(const SSL_CTX *ctx);
X509 *SSL_CTX_get0_certificate(const SSL_CTX *ctx);
EVP_PKEY *SSL_CTX_get0_privatekey(const SSL_CTX *ctx);
X509_STORE *SSL_CTX_get_cert_store(const SSL_CTX *);
void SSL_CTX_set_cert_store(SSL_CTX *, X509_STORE *);
int SSL_CTX_set_cipher_list(SSL_CTX *ctx, const char *str);
int SSL_CTX_set_ciphersuites(SSL_CTX *ctx, const char *str);
void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, int (*verify_callback)(int, X509_STORE_CTX *));
void SSL_CTX_set_cert_verify_callback(SSL_CTX *ctx, int (*cb)(X509_STORE_CTX *, void *), void *arg);
int SSL_CTX_set_session_id_context(SSL_CTX *ctx, const unsigned char *sid_ctx, unsigned int sid_ctx_len);
long SSL_CTX_set_timeout(SSL_CTX *ctx, long t);
long SSL_CTX_get_timeout(const SSL_CTX *ctx);
int SSL_CTX_set_num_tickets(SSL_CTX *ctx, size_t num_tickets);
void SSL_CTX_set_client_CA_list(SSL_CTX *ctx, OPENSSL_STACK *name_list);
int SSL_CTX_add_client_CA(SSL_CTX *ctx, X509 *cacert);
int SSL_CTX_set_alpn_protos(SSL_CTX *ctx, const unsigned char *protos, unsigned int protos_len);
void SSL_CTX_set_alpn_select_cb(SSL_CTX *ctx,
    int (*cb)(SSL *, const unsigned char **, unsigned char *, const unsigned char *, unsigned int, void *),
    void *arg);
void SSL_CTX_set_next_protos_advertised_cb(SSL_CTX *s,
    int (*cb)(SSL *, const unsigned char **, unsigned int *, void *), void *arg);
void SSL_CTX_set_next_proto_select_cb(SSL_CTX *s,
    int (*cb)(SSL *, unsigned char **, unsigned char *, const unsigned char *, unsigned int, void *),
    void *arg);
void SSL_get0_next_proto_negotiated(const SSL *s, const unsigned char **data, unsigned *len);
void SSL_CTX_set_client_hello_cb(SSL_CTX *c, int (*cb)(SSL *, int *, void *), void *arg);
void SSL_CTX_set_cert_cb(SSL_CTX *c, int (*cb)(SSL *, void *), void *arg);
void SSL_CTX_set_keylog_callback(SSL_CTX *ctx, void (*cb)(const SSL *, const char *));
void SSL_CTX_sess_set_new_cb(SSL_CTX *ctx, int (*new_session_cb)(SSL *, SSL_SESSION *));
void SSL_CTX_sess_set_get_cb(SSL_CTX *ctx,
    SSL_SESSION *(*get_session_cb)(SSL *, const unsigned char *, int, int *));
void SSL_CTX_sess_set_remove_cb(SSL_CTX *ctx, void (*remove_session_cb)(SSL_CTX *, SSL_SESSION *));
int SSL_CTX_set_session_ticket_cb(SSL_CTX *ctx, int (*gen_cb)(SSL *, void *),
    int (*dec_cb)(SSL *, SSL_SESSION *, const unsigned char *, size_t, int, void *), void *arg);
int SSL_CTX_set_tlsext_ticket_key_evp_cb(SSL_CTX *ctx,
    int (*fp)(SSL *, unsigned char *, unsigned char *, EVP_CIPHER_CTX *, EVP_MAC_CTX *, int));
void SSL_CTX_set_psk_server_callback(SSL_CTX *ctx,
    unsigned int (*cb)(SSL *, const char *, unsigned char *, unsigned int));
void SSL_CTX_set_psk_client_callback(SSL_CTX *ctx,
    unsigned int (*cb)(SSL *, const char *, char *, unsigned int, unsigned char *, unsigned int));
int SSL_CTX_use_psk_identity_hint(SSL_CTX *ctx, const char *hint);
void SSL_CTX_set_psk_find_session_callback(SSL_CTX *ctx,
    int (*cb)(SSL *, const unsigned char *, size_t, SSL_SESSION **));
void SSL_CTX_set_psk_use_session_callback(SSL_CTX *ctx,
    int (*cb)(SSL *, const EVP_MD *, const unsigned char **, size_t *, SSL_SESSION **));
void SSL_CTX_set_default_passwd_cb(SSL_CTX *ctx, pem_password_cb *cb);
int SSL_CTX_set0_tmp_dh_pkey(SSL_CTX *ctx, EVP_PKEY *dhpkey);
void SSL_CTX_set_security_level(SSL_CTX *ctx, int level);
int SSL_CTX_get_security_level(const SSL_CTX *ctx);
void *SSL_CTX_get_ex_data(const SSL_CTX *ssl, int idx);
int SSL_CTX_set_ex_data(SSL_CTX *ssl, int idx, void *data);
OPENSSL_STACK *SSL_CTX_get_client_CA_list(const SSL_CTX *s);

/* ssl.h: connections */
SSL *SSL_new(SSL_CTX *ctx);
void SSL_free(SSL *ssl);
void SSL_set_bio(SSL *s, BIO *rbio, BIO *wbio);
BIO *SSL_get_rbio(const SSL *s);
BIO *SSL_get_wbio(const SSL *s);
void SSL_set_accept_state(SSL *s);
void SSL_set_connect_state(SSL *s);
int SSL_is_server(const SSL *s);
int SSL_do_handshake(SSL *s);
int SSL_is_init_finished(const SSL *s);
int SSL_in_init(const SSL *s);
int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes);
int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written);
int SSL_peek_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes);
int SSL_pending(const SSL *s);
int SSL_has_pending(const SSL *s);
int SSL_shutdown(SSL *s);
int SSL_get_shutdown(const SSL *ssl);
void SSL_set_shutdown(SSL *ssl, int mode);
int SSL_get_error(const SSL *s, int ret_code);
int SSL_want(const SSL *s);
long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg);
long SSL_callback_ctrl(SSL *, int, void (*)(void));
uint64_t SSL_set_options(SSL *s, uint64_t op);
uint64_t SSL_clear_options(SSL *s, uint64_t op);
uint64_t SSL_get_options(const SSL *s);
void SSL_set_verify(SSL *s, int mode, int (*verify_callback)(int, X509_STORE_CTX *));
void SSL_set_verify_result(SSL *ssl, long v);
long SSL_get_verify_result(const SSL *ssl);
int SSL_set_ex_data(SSL *ssl, int idx, void *data);
void *SSL_get_ex_data(const SSL *ssl, int idx);
SSL_CTX *SSL_set_SSL_CTX(SSL *ssl, SSL_CTX *ctx);
SSL_CTX *SSL_get_SSL_CTX(const SSL *ssl);
const char *SSL_get_servername(const SSL *s, const int type);
int SSL_get_servername_type(const SSL *s);
const char *SSL_get_version(const SSL *s);
int SSL_version(const SSL *s);
int SSL_client_version(const SSL *s);
const SSL_CIPHER *SSL_get_current_cipher(const SSL *s);
const char *SSL_CIPHER_get_name(const SSL_CIPHER *c);
const char *SSL_CIPHER_standard_name(const SSL_CIPHER *c);
const char *SSL_CIPHER_get_version(const SSL_CIPHER *c);
int SSL_CIPHER_get_bits(const SSL_CIPHER *c, int *alg_bits);
OPENSSL_STACK *SSL_get_ciphers(const SSL *s);
X509 *SSL_get1_peer_certificate(const SSL *s);
X509 *SSL_get0_peer_certificate(const SSL *s);
X509 *SSL_get_certificate(const SSL *ssl);
OPENSSL_STACK *SSL_get_peer_cert_chain(const SSL *s);
OPENSSL_STACK *SSL_get0_verified_chain(const SSL *s);
void SSL_get0_alpn_selected(const SSL *ssl, const unsigned char **data, unsigned int *len);
int SSL_set_alpn_protos(SSL *ssl, const unsigned char *protos, unsigned int protos_len);
size_t SSL_get_finished(const SSL *s, void *buf, size_t count);
size_t SSL_get_peer_finished(const SSL *s, void *buf, size_t count);
int SSL_export_keying_material(SSL *s, unsigned char *out, size_t olen, const char *label,
                               size_t llen, const unsigned char *context, size_t contextlen,
                               int use_context);
int SSL_get_shared_sigalgs(SSL *s, int idx, int *psign, int *phash, int *psignandhash,
                           unsigned char *rsig, unsigned char *rhash);
int SSL_get_peer_signature_type_nid(const SSL *s, int *pnid);
int SSL_renegotiate(SSL *s);
int SSL_renegotiate_pending(const SSL *s);
int SSL_key_update(SSL *s, int updatetype);
int SSL_verify_client_post_handshake(SSL *s);
void SSL_set_post_handshake_auth(SSL *s, int val);
int SSL_new_session_ticket(SSL *s);
int SSL_free_buffers(SSL *ssl);
int SSL_set_num_tickets(SSL *s, size_t num_tickets);
void SSL_set_cert_cb(SSL *s, int (*cb)(SSL *, void *), void *arg);
int SSL_use_certificate(SSL *ssl, X509 *x);
int SSL_use_PrivateKey(SSL *ssl, EVP_PKEY *pkey);
void SSL_set_psk_server_callback(SSL *ssl,
    unsigned int (*cb)(SSL *, const char *, unsigned char *, unsigned int));
void SSL_set_psk_client_callback(SSL *ssl,
    unsigned int (*cb)(SSL *, const char *, char *, unsigned int, unsigned char *, unsigned int));
int SSL_use_psk_identity_hint(SSL *s, const char *identity_hint);
const char *SSL_get_psk_identity(const SSL *s);
const char *SSL_get_psk_identity_hint(const SSL *s);
void SSL_set_psk_find_session_callback(SSL *s,
    int (*cb)(SSL *, const unsigned char *, size_t, SSL_SESSION **));
void SSL_set_psk_use_session_callback(SSL *s,
    int (*cb)(SSL *, const EVP_MD *, const unsigned char **, size_t *, SSL_SESSION **));
void SSL_set_msg_callback(SSL *ssl,
    void (*cb)(int, int, int, const void *, size_t, SSL *, void *));
void SSL_trace(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg);
int SSL_client_hello_isv2(SSL *s);
size_t SSL_client_hello_get0_session_id(SSL *s, const unsigned char **out);
int SSL_client_hello_get0_ext(SSL *s, unsigned int type, const unsigned char **out, size_t *outlen);
int SSL_client_hello_get1_extensions_present(SSL *s, int **out, size_t *outlen);
unsigned int SSL_client_hello_get0_legacy_version(SSL *s);
const char *SSL_alert_desc_string_long(int value);
const char *SSL_alert_type_string_long(int value);
const char *SSL_state_string_long(const SSL *s);
void SSL_set_info_callback(SSL *ssl, void (*cb)(const SSL *ssl, int type, int val));
int SSL_set_session_id_context(SSL *ssl, const unsigned char *sid_ctx, unsigned int sid_ctx_len);
long SSL_get_default_timeout(const SSL *s);
int SSL_get_security_level(const SSL *s);
void SSL_set_security_level(SSL *s, int level);
int SSL_set_cipher_list(SSL *s, const char *str);
int SSL_set_ciphersuites(SSL *s, const char *str);

/* ssl.h: sessions */
SSL_SESSION *SSL_get1_session(SSL *ssl);
SSL_SESSION *SSL_get_session(const SSL *ssl);
int SSL_set_session(SSL *to, SSL_SESSION *session);
int SSL_session_reused(const SSL *s);
void SSL_SESSION_free(SSL_SESSION *ses);
int SSL_SESSION_up_ref(SSL_SESSION *ses);
int i2d_SSL_SESSION(SSL_SESSION *in, unsigned char **pp);
SSL_SESSION *d2i_SSL_SESSION(SSL_SESSION **a, const unsigned char **pp, long length);
const unsigned char *SSL_SESSION_get_id(const SSL_SESSION *s, unsigned int *len);
int SSL_SESSION_set1_id(SSL_SESSION *s, const unsigned char *sid, unsigned int sid_len);
int SSL_SESSION_is_resumable(const SSL_SESSION *s);
int SSL_SESSION_has_ticket(const SSL_SESSION *s);
void SSL_SESSION_get0_ticket(const SSL_SESSION *s, const unsigned char **tick, size_t *len);
unsigned long SSL_SESSION_get_ticket_lifetime_hint(const SSL_SESSION *s);
long SSL_SESSION_get_time(const SSL_SESSION *s);
long SSL_SESSION_get_timeout(const SSL_SESSION *s);
long SSL_SESSION_set_timeout(SSL_SESSION *s, long t);
int SSL_SESSION_get_protocol_version(const SSL_SESSION *s);
SSL_SESSION *SSL_SESSION_new(void);
int SSL_SESSION_set1_master_key(SSL_SESSION *sess, const unsigned char *in, size_t len);
int SSL_SESSION_set_cipher(SSL_SESSION *s, const SSL_CIPHER *cipher);
int SSL_SESSION_set_protocol_version(SSL_SESSION *s, int version);
const SSL_CIPHER *SSL_CIPHER_find(SSL *ssl, const unsigned char *ptr);
const SSL_CIPHER *SSL_SESSION_get0_cipher(const SSL_SESSION *s);
size_t SSL_SESSION_get_master_key(const SSL_SESSION *sess, unsigned char *out, size_t outlen);
size_t SSL_get_client_random(const SSL *ssl, unsigned char *out, size_t outlen);
int SSL_CTX_remove_session(SSL_CTX *ctx, SSL_SESSION *session);
int OBJ_sn2nid(const char *s);
const char *OBJ_nid2sn(int n);
const char *OBJ_nid2ln(int n);
/* ---- certificates read through OpenSSL: _x509_ossl.py, session 38. Types, then
   functions; every symbol is in OpenSSL 3.0 and 3.5, checked against both headers, in ABI and
   API mode. Appended to FUNCTIONS as one block: typedefs may come anywhere before their use. */
typedef struct X509_name_entry_st X509_NAME_ENTRY;
typedef struct X509_extension_st X509_EXTENSION;
typedef struct asn1_object_st ASN1_OBJECT;
typedef struct asn1_string_st ASN1_STRING;
typedef struct asn1_type_st ASN1_TYPE;
typedef struct bignum_st BIGNUM;
typedef struct GENERAL_NAME_st GENERAL_NAME;
typedef struct stack_st_GENERAL_NAME GENERAL_NAMES;
typedef struct stack_st_ACCESS_DESCRIPTION AUTHORITY_INFO_ACCESS;
typedef struct stack_st_DIST_POINT CRL_DIST_POINTS;
typedef struct stack_st_ASN1_OBJECT EXTENDED_KEY_USAGE;
typedef struct ACCESS_DESCRIPTION_st {
    ASN1_OBJECT *method;
    GENERAL_NAME *location;
} ACCESS_DESCRIPTION;
typedef struct DIST_POINT_NAME_st {
    int type;
    union {
        GENERAL_NAMES *fullname;
        struct stack_st_X509_NAME_ENTRY *relativename;
    } name;
    X509_NAME *dpname;
} DIST_POINT_NAME;
typedef struct DIST_POINT_st {
    DIST_POINT_NAME *distpoint;
    ASN1_STRING *reasons;
    GENERAL_NAMES *CRLissuer;
    int dp_reasons;
} DIST_POINT;
int X509_NAME_entry_count(const X509_NAME *name);
X509_NAME_ENTRY *X509_NAME_get_entry(const X509_NAME *name, int loc);
ASN1_OBJECT *X509_NAME_ENTRY_get_object(const X509_NAME_ENTRY *ne);
ASN1_STRING *X509_NAME_ENTRY_get_data(const X509_NAME_ENTRY *ne);
int X509_NAME_ENTRY_set(const X509_NAME_ENTRY *ne);
int X509_NAME_print_ex(BIO *out, const X509_NAME *nm, int indent, unsigned long flags);
int ASN1_STRING_type(const ASN1_STRING *x);
int ASN1_STRING_length(const ASN1_STRING *x);
const unsigned char *ASN1_STRING_get0_data(const ASN1_STRING *x);
int ASN1_STRING_to_UTF8(unsigned char **out, const ASN1_STRING *in);
int ASN1_TIME_print(BIO *bp, const ASN1_STRING *tm);
int i2a_ASN1_INTEGER(BIO *bp, const ASN1_STRING *a);
int ASN1_TYPE_get(const ASN1_TYPE *a);
int i2d_ASN1_TYPE(const ASN1_TYPE *a, unsigned char **out);
int OBJ_obj2nid(const ASN1_OBJECT *o);
int OBJ_obj2txt(char *buf, int buf_len, const ASN1_OBJECT *a, int no_name);
int i2t_ASN1_OBJECT(char *buf, int buf_len, const ASN1_OBJECT *a);
int OBJ_txt2nid(const char *s);
long X509_get_version(const X509 *x);
const ASN1_STRING *X509_get0_serialNumber(const X509 *x);
const ASN1_STRING *X509_get0_notBefore(const X509 *x);
const ASN1_STRING *X509_get0_notAfter(const X509 *x);
int X509_check_ca(X509 *x);
int X509_cmp(const X509 *a, const X509 *b);
int X509_get_ext_by_NID(const X509 *x, int nid, int lastpos);
X509_EXTENSION *X509_get_ext(const X509 *x, int loc);
void *X509_get_ext_d2i(const X509 *x, int nid, int *crit, int *idx);
void *X509V3_EXT_d2i(X509_EXTENSION *ext);
void *GENERAL_NAME_get0_value(const GENERAL_NAME *a, int *ptype);
int GENERAL_NAME_get0_otherName(const GENERAL_NAME *gen, ASN1_OBJECT **poid, ASN1_TYPE **pvalue);
int GENERAL_NAME_print(BIO *out, GENERAL_NAME *gen);
void GENERAL_NAMES_free(GENERAL_NAMES *a);
void AUTHORITY_INFO_ACCESS_free(AUTHORITY_INFO_ACCESS *a);
void CRL_DIST_POINTS_free(CRL_DIST_POINTS *a);
void EXTENDED_KEY_USAGE_free(EXTENDED_KEY_USAGE *a);
X509_STORE_CTX *X509_STORE_CTX_new(void);
void X509_STORE_CTX_free(X509_STORE_CTX *ctx);
int X509_STORE_CTX_init(X509_STORE_CTX *ctx, X509_STORE *trust_store, X509 *target, void *untrusted);
int X509_STORE_CTX_get1_issuer(X509 **issuer, X509_STORE_CTX *ctx, X509 *x);
int EVP_PKEY_get_bn_param(const EVP_PKEY *pkey, const char *key_name, BIGNUM **bn);
int EVP_PKEY_get_octet_string_param(const EVP_PKEY *pkey, const char *key_name, unsigned char *buf, size_t max_buf_sz, size_t *out_sz);
int BN_num_bits(const BIGNUM *a);
int BN_bn2bin(const BIGNUM *a, unsigned char *to);
void BN_free(BIGNUM *a);
const char *EC_curve_nid2nist(int nid);
int ERR_set_mark(void);
int ERR_pop_to_mark(void);
X509_NAME *d2i_X509_NAME(X509_NAME **a, const unsigned char **in, long len);
void X509_NAME_free(X509_NAME *a);
GENERAL_NAMES *d2i_GENERAL_NAMES(GENERAL_NAMES **a, const unsigned char **in, long len);
/* SNI: a context lends its client CA list (Node's SetCACerts; _engine/_keycert.py) */
OPENSSL_STACK *SSL_dup_CA_list(const OPENSSL_STACK *sk);
void SSL_set_client_CA_list(SSL *s, OPENSSL_STACK *name_list);
"""

CDEF = TYPES + FUNCTIONS

# The compiled binding only: the engine's two data-path loops and its handshake step as one C
# call each (a C call from Python costs more than the C work of a round trip's loop).  ABI mode
# has no such functions: the engine runs its Python steps instead (``getattr(lib,
# "nodetls_read", None)``), the same steps.
# Also the session-ticket callbacks in C (``nodetls_tk_*``, ``nodetls_no_renewal_on_resumption``):
# ``_context/ticket_keys.py`` uses them when present and its Python callbacks otherwise.
HELPERS = """
int nodetls_read(SSL *ssl, BIO *rbio, BIO *wbio, const char *data, int n, int more, int eof,
                 unsigned char *buf, size_t cap, size_t *total);
int nodetls_seal(SSL *ssl, BIO *wbio, const char *data, size_t n, char *out, int cap,
                 size_t *written);
int nodetls_handshake(SSL *ssl, BIO *rbio, BIO *wbio, const char *data, int n, char *out,
                      int cap, size_t *got);
SSL *nodetls_new(SSL_CTX *ctx, uint64_t options, int server, BIO **bios);
int nodetls_release_bios(SSL *ssl);
int nodetls_shutdown(SSL *ssl);
int nodetls_tk_setup(void);
int nodetls_tk_install(SSL_CTX *ctx);
int nodetls_tk_set(SSL_CTX *ctx, const unsigned char *keys, size_t nkeys,
                   const unsigned char *legacy, size_t legacy_len);
int nodetls_tk_bind(SSL *ssl, SSL_CTX *ctx);
int nodetls_no_renewal_on_resumption(SSL_CTX *ctx);
int nodetls_tk_own(SSL_CTX *ctx);
void nodetls_cert_cb_install(SSL_CTX *ctx);
int nodetls_sp_setup(int (*ch)(SSL *, int *, void *),
                     SSL_SESSION *(*get)(SSL *, const unsigned char *, int, int *));
void nodetls_sp_install(SSL_CTX *ctx, int kinds);
int nodetls_sp_enable(SSL *ssl);
int nodetls_sp_pending(SSL *ssl, unsigned char *out, int *ticket);
int nodetls_sp_found(SSL *ssl, const unsigned char *der, size_t len);
void nodetls_sp_resume(SSL *ssl);
void nodetls_sp_done(SSL *ssl);
"""

HELPERS_SOURCE = r"""
/* TLSEngine.read_view's loop: data[0:n] (ciphertext) into the read BIO, then SSL_read_ex into
   buf while a whole record fits and the read BIO holds more (or the stream ended).  total[0]: the
   plaintext bytes in buf; total[1]: the ciphertext waiting in the write BIO afterwards (a
   KeyUpdate answer, a renegotiation's messages: the engine's output_after_read, without a
   BIO_ctrl_pending call of its own).  Returns 0 (the read BIO is drained), -1 (buf is full: more
   may wait), -2 (nothing new to read: no data, nothing pending, not more, not eof; no SSL call
   made), or SSL_get_error() of the SSL_read_ex that failed (1 and up). */
int nodetls_read(SSL *ssl, BIO *rbio, BIO *wbio, const char *data, int n, int more, int eof,
                 unsigned char *buf, size_t cap, size_t *total)
{
    size_t got, done = 0;
    int st = -1;
    if (n > 0)
        BIO_write(rbio, data, n);
    else if (!more && !eof && !BIO_ctrl_pending(rbio)) {
        total[0] = 0;
        total[1] = BIO_ctrl_pending(wbio);
        return -2;
    }
    while (cap - done >= 16384) {
        if (!SSL_read_ex(ssl, buf + done, cap - done, &got)) {
            st = SSL_get_error(ssl, 0);
            break;
        }
        done += got;
        if (!eof && !BIO_ctrl_pending(rbio)) {
            st = 0;
            break;
        }
    }
    total[0] = done;
    total[1] = BIO_ctrl_pending(wbio);
    return st;
}

/* TLSEngine.seal's common case: SSL_write_ex of data[0:n], then one BIO_read of the ciphertext
   into out.  Returns the ciphertext bytes in out (0..cap; cap: more may wait in the BIO), -1 when
   SSL_write_ex failed (nothing read), or -2 after a partial write (*written bytes taken; nothing
   read). */
int nodetls_seal(SSL *ssl, BIO *wbio, const char *data, size_t n, char *out, int cap,
                 size_t *written)
{
    int got;
    if (!SSL_write_ex(ssl, data, n, written))
        return -1;
    if (*written != n)
        return -2;
    got = BIO_read(wbio, out, cap);
    return got > 0 ? got : 0;
}

/* TLSEngine.handshake_step: data[0:n] (ciphertext) into the read BIO, SSL_do_handshake, and when
   the handshake waits for the peer (SSL_ERROR_WANT_READ/WRITE) the flight it produced: one
   BIO_read of the write BIO into out (*got bytes, 0..cap; cap: more may wait).  Returns 0 (the
   handshake completed: nothing read, the output stays in the BIO) or SSL_get_error() of the
   SSL_do_handshake that did not complete (1 and up; *got is 0 unless WANT_READ/WRITE). */
int nodetls_handshake(SSL *ssl, BIO *rbio, BIO *wbio, const char *data, int n, char *out,
                      int cap, size_t *got)
{
    int r, err;
    got[0] = 0;
    if (n > 0)
        BIO_write(rbio, data, n);
    r = SSL_do_handshake(ssl);
    if (r == 1)
        return 0;
    err = SSL_get_error(ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        r = BIO_read(wbio, out, cap);
        if (r > 0)
            got[0] = (size_t)r;
    }
    return err;
}

/* Two fresh memory BIOs in bios[0] (read) and bios[1] (write): 1, or 0 with neither made. */
static int nodetls_mem_bios(BIO **bios)
{
    bios[0] = BIO_new(BIO_s_mem());
    bios[1] = BIO_new(BIO_s_mem());
    if (bios[0] != NULL && bios[1] != NULL)
        return 1;
    BIO_free(bios[0]);  /* NULL-safe */
    BIO_free(bios[1]);
    return 0;
}

/* TLSEngine.__init__: SSL_new(ctx) over two fresh memory BIOs (the SSL owns them; bios[0] the
   read BIO, bios[1] the write BIO), with SSL_set_options(options) and the accept (server) or
   connect state.  Returns the SSL, or NULL with nothing left allocated (the error queue says
   why). */
SSL *nodetls_new(SSL_CTX *ctx, uint64_t options, int server, BIO **bios)
{
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL)
        return NULL;
    if (!nodetls_mem_bios(bios)) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_bio(ssl, bios[0], bios[1]);
    SSL_set_options(ssl, options);
    if (server)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    return ssl;
}

/* TLSEngine.release_bios: when both memory BIOs are drained, each gets a fresh, empty buffer
   (a memory BIO keeps the largest buffer it ever held; BIO_set_mem_buf frees the old one, the
   BIOs themselves stay), and the record layers' buffers are freed if empty (SSL_free_buffers:
   under OpenSSL 3.5, an engine whose last act was writing its session tickets kept the write
   record layer's 16 KiB buffer despite SSL_MODE_RELEASE_BUFFERS).  1: done; 0: not drained; -1: out of memory
   (nothing changed in either case). */
int nodetls_release_bios(SSL *ssl)
{
    BIO *rbio = SSL_get_rbio(ssl), *wbio = SSL_get_wbio(ssl);
    BUF_MEM *rbuf, *wbuf;
    if (BIO_ctrl_pending(rbio) || BIO_ctrl_pending(wbio))
        return 0;
    rbuf = BUF_MEM_new();
    wbuf = BUF_MEM_new();
    if (rbuf == NULL || wbuf == NULL) {
        BUF_MEM_free(rbuf);  /* NULL-safe */
        BUF_MEM_free(wbuf);
        ERR_clear_error();
        return -1;
    }
    BIO_set_mem_buf(rbio, rbuf, BIO_CLOSE);
    BIO_set_mem_buf(wbio, wbuf, BIO_CLOSE);
    if (!SSL_free_buffers(ssl))  /* 0: a record layer still holds data: keep its buffers */
        ERR_clear_error();
    return 1;
}

/* TLSEngine.shutdown: close_notify into the write BIO, once, and only once the handshake is
   complete; the error queue is left clean.  1: SSL_shutdown was called; 0: nothing to do. */
int nodetls_shutdown(SSL *ssl)
{
    if ((SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN) || !SSL_is_init_finished(ssl))
        return 0;
    SSL_shutdown(ssl);
    ERR_clear_error();
    return 1;
}

/* ---------------------------------------------------------------- session-ticket keys in C
   The compiled twin of ticket_keys.ticket_key_cb (read that module's docstring): Node's 48-byte
   keys name[16] | hmac[16] | aes[16], AES-128-CBC + HMAC-SHA256; the first key encrypts, every key
   decrypts (1: current key, 2: older key, resume and renew), OpenSSL's own 80-byte key
   name[16] | hmac[32] | aes[32] (AES-256-CBC) decrypts and renews, an unknown name is 0.

   Ownership.  Each SSL_CTX served here owns one slot (SSL_CTX ex_data, freed with the SSL_CTX):
   a lock and the current key table.  Each SSL holds, in SSL ex_data, a counted reference to the
   SSL_CTX whose keys serve it: its session context, recorded when SSL_new creates it (the
   ex_data new callback, OpenSSL 3.0), or the one nodetls_tk_bind names (an SNI context only lends
   its certificate: SSL_get_SSL_CTX stays the session context); the reference is dropped when the SSL is freed.  So a slot outlives
   every SSL that may read it.  A table is immutable: nodetls_tk_set swaps in a new one under the
   write lock, then wipes (OPENSSL_cleanse) and frees the old one; the callback holds the read
   lock while it reads a table, and the key bytes it hands OpenSSL are copied into the cipher and
   MAC contexts before it returns. */

#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#define NODETLS_TK_KEY 48
#define NODETLS_TK_LEGACY 80

typedef struct {
    size_t n;                                /* Node keys in keys[] */
    size_t legacy;                           /* 0, or NODETLS_TK_LEGACY */
    unsigned char legacy_key[NODETLS_TK_LEGACY];
    unsigned char keys[1];                   /* n * NODETLS_TK_KEY (allocated past the end) */
} nodetls_tk_table;

typedef struct {
    CRYPTO_RWLOCK *lock;
    nodetls_tk_table *table;                 /* NULL: no keys (issue no ticket) */
} nodetls_tk_slot;

static CRYPTO_ONCE nodetls_tk_once = CRYPTO_ONCE_STATIC_INIT;
static int nodetls_tk_ctx_idx = -1;
static int nodetls_tk_ssl_idx = -1;

static size_t nodetls_tk_table_size(size_t n)
{
    return offsetof(nodetls_tk_table, keys) + (n ? n : 1) * NODETLS_TK_KEY;
}

static void nodetls_tk_table_free(nodetls_tk_table *t)
{
    if (t != NULL) {
        size_t size = nodetls_tk_table_size(t->n);
        OPENSSL_cleanse(t, size);
        OPENSSL_free(t);
    }
}

static void nodetls_tk_ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                                long argl, void *argp)
{
    nodetls_tk_slot *slot = ptr;
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    if (slot == NULL)
        return;
    nodetls_tk_table_free(slot->table);
    CRYPTO_THREAD_lock_free(slot->lock);
    OPENSSL_free(slot);
}

static void nodetls_tk_ssl_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                               long argl, void *argp)
{
    /* SSL_new runs this once its ctx (= its session context) is set. */
    SSL_CTX *ctx = SSL_get_SSL_CTX((SSL *)parent);
    (void)ptr; (void)argl; (void)argp;
    if (ctx != NULL && SSL_CTX_up_ref(ctx)) {
        if (!CRYPTO_set_ex_data(ad, idx, ctx))
            SSL_CTX_free(ctx);
    }
}

static int nodetls_tk_ssl_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d,
                              int idx, long argl, void *argp)
{
    /* SSL_dup: the copy serves with the original's keys; it already holds a reference (new). */
    SSL_CTX *mine = CRYPTO_get_ex_data(to, idx);
    SSL_CTX *theirs = *from_d;
    (void)from; (void)argl; (void)argp;
    if (theirs != NULL && !SSL_CTX_up_ref(theirs))
        return 0;
    SSL_CTX_free(mine);
    return 1;
}

static void nodetls_tk_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                                long argl, void *argp)
{
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    SSL_CTX_free((SSL_CTX *)ptr);  /* NULL-safe */
}

static void nodetls_tk_init(void)
{
    nodetls_tk_ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, nodetls_tk_ctx_free);
    if (nodetls_tk_ctx_idx >= 0)
        nodetls_tk_ssl_idx = SSL_get_ex_new_index(0, NULL, nodetls_tk_ssl_new,
                                                  nodetls_tk_ssl_dup, nodetls_tk_ssl_free);
}

/* Obtain the two ex_data indexes (once per process).  1: ready; 0: not usable. */
int nodetls_tk_setup(void)
{
    return CRYPTO_THREAD_run_once(&nodetls_tk_once, nodetls_tk_init)
           && nodetls_tk_ctx_idx >= 0 && nodetls_tk_ssl_idx >= 0;
}

static int nodetls_tk_hmac(EVP_MAC_CTX *hctx, const unsigned char *key, size_t len)
{
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)key, len);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

static int nodetls_tk_cb(SSL *ssl, unsigned char *key_name, unsigned char *iv,
                         EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    SSL_CTX *ctx = SSL_get_ex_data(ssl, nodetls_tk_ssl_idx);
    nodetls_tk_slot *slot;
    const nodetls_tk_table *t;
    const unsigned char *k;
    size_t i;
    int ret = 0;

    if (ctx == NULL)
        ctx = SSL_get_SSL_CTX(ssl);
    slot = SSL_CTX_get_ex_data(ctx, nodetls_tk_ctx_idx);
    if (slot == NULL)
        return 0;  /* no keys known for this connection: no ticket / full handshake */
    if (!CRYPTO_THREAD_read_lock(slot->lock))
        return -1;
    t = slot->table;
    if (t == NULL) {
        ret = 0;
    } else if (enc) {
        k = t->keys;
        memcpy(key_name, k, 16);
        if (RAND_bytes(iv, 16) != 1
            || EVP_EncryptInit_ex(cctx, EVP_aes_128_cbc(), NULL, k + 32, iv) != 1
            || !nodetls_tk_hmac(hctx, k + 16, 16))
            ret = -1;
        else
            ret = 1;
    } else {
        for (i = 0; i < t->n; i++) {
            k = t->keys + i * NODETLS_TK_KEY;
            if (memcmp(k, key_name, 16) != 0)
                continue;
            if (!nodetls_tk_hmac(hctx, k + 16, 16)
                || EVP_DecryptInit_ex(cctx, EVP_aes_128_cbc(), NULL, k + 32, iv) != 1)
                ret = -1;
            else
                ret = i == 0 ? 1 : 2;  /* current key: no new ticket (Node); older: renew */
            goto done;
        }
        k = t->legacy_key;
        if (t->legacy && memcmp(k, key_name, 16) == 0) {
            /* A ticket OpenSSL's own keys made before the context switched to ours: renew. */
            if (!nodetls_tk_hmac(hctx, k + 16, 32)
                || EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k + 48, iv) != 1)
                ret = -1;
            else
                ret = 2;
        }
    }
done:
    CRYPTO_THREAD_unlock(slot->lock);
    return ret;
}

/* Serve ctx's tickets with nodetls_tk_cb, from a slot with no keys yet (nodetls_tk_set gives
   them).  1: done; 0: failed (nodetls_tk_setup not done, out of memory). */
int nodetls_tk_install(SSL_CTX *ctx)
{
    nodetls_tk_slot *slot;
    if (!nodetls_tk_setup())
        return 0;
    slot = SSL_CTX_get_ex_data(ctx, nodetls_tk_ctx_idx);
    if (slot == NULL) {
        slot = OPENSSL_zalloc(sizeof(*slot));
        if (slot == NULL)
            return 0;
        slot->lock = CRYPTO_THREAD_lock_new();
        if (slot->lock == NULL || !SSL_CTX_set_ex_data(ctx, nodetls_tk_ctx_idx, slot)) {
            CRYPTO_THREAD_lock_free(slot->lock);
            OPENSSL_free(slot);
            return 0;
        }
    }
    /* The EVP callback takes precedence over nodetls_tk_own's; drop that one all the same. */
    SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB, NULL);
    return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, nodetls_tk_cb) == 1;
}

/* Replace ctx's keys: nkeys Node keys (nkeys * 48 bytes, the first current) and OpenSSL's own
   80-byte key (legacy_len 80) or none (0).  1: done; 0: ctx is not served by nodetls_tk_cb
   (nothing changed); -1: out of memory (the old keys stay). */
int nodetls_tk_set(SSL_CTX *ctx, const unsigned char *keys, size_t nkeys,
                   const unsigned char *legacy, size_t legacy_len)
{
    nodetls_tk_slot *slot;
    nodetls_tk_table *t, *old;
    if (nodetls_tk_ctx_idx < 0
        || (slot = SSL_CTX_get_ex_data(ctx, nodetls_tk_ctx_idx)) == NULL)
        return 0;
    if (legacy_len != 0 && legacy_len != NODETLS_TK_LEGACY)
        return -1;
    t = OPENSSL_zalloc(nodetls_tk_table_size(nkeys));
    if (t == NULL)
        return -1;
    t->n = nkeys;
    if (nkeys)
        memcpy(t->keys, keys, nkeys * NODETLS_TK_KEY);
    t->legacy = legacy_len;
    if (legacy_len)
        memcpy(t->legacy_key, legacy, legacy_len);
    if (!CRYPTO_THREAD_write_lock(slot->lock)) {
        nodetls_tk_table_free(t);
        return -1;
    }
    old = slot->table;
    slot->table = t;
    CRYPTO_THREAD_unlock(slot->lock);
    nodetls_tk_table_free(old);  /* no callback reads it: they hold the read lock */
    return 1;
}

/* Serve ssl's tickets with ctx's keys (NULL: SSL_get_SSL_CTX's from now on).  Only needed when
   that is not the context ssl was created on.  1: done; 0: failed (nothing changed). */
int nodetls_tk_bind(SSL *ssl, SSL_CTX *ctx)
{
    SSL_CTX *old;
    if (!nodetls_tk_setup())
        return 0;
    if (ctx != NULL && !SSL_CTX_up_ref(ctx))
        return 0;
    old = SSL_get_ex_data(ssl, nodetls_tk_ssl_idx);
    if (!SSL_set_ex_data(ssl, nodetls_tk_ssl_idx, ctx)) {
        SSL_CTX_free(ctx);
        return 0;
    }
    SSL_CTX_free(old);
    return 1;
}

/* ticket_keys.use_without_renewal_cb in C: while OpenSSL's own keys serve ctx, a ticket that
   decrypted is used as it is (no new ticket after a TLS 1.3 resumption, as Node); anything else
   keeps OpenSSL's answer (a full handshake with a new ticket). */
static SSL_TICKET_RETURN nodetls_use_without_renewal(SSL *ssl, SSL_SESSION *sess,
                                                     const unsigned char *name, size_t name_len,
                                                     SSL_TICKET_STATUS status, void *arg)
{
    (void)ssl; (void)sess; (void)name; (void)name_len; (void)arg;
    if (status == SSL_TICKET_SUCCESS || status == SSL_TICKET_SUCCESS_RENEW)
        return SSL_TICKET_RETURN_USE;
    return SSL_TICKET_RETURN_IGNORE_RENEW;
}

int nodetls_no_renewal_on_resumption(SSL_CTX *ctx)
{
    return SSL_CTX_set_session_ticket_cb(ctx, NULL, nodetls_use_without_renewal, NULL);
}

/* SecureContext._init: the certificate callback every context has (its ABI-mode twin is
   secure_context._cert_cb_noop), as Node's TLSWrap gives every SSL its SSLCertCallback, which
   returns 1 at once when nothing waits for it.  Having one matters before it runs: OpenSSL 3.0's
   is_tls13_capable() (the server's version choice) takes any certificate callback as "TLS 1.3 can
   work", where without one it checks each certificate (an EC one's curve against the TLS 1.3
   signature algorithms: ~4k instructions per handshake, and a different outcome for an EC
   certificate no TLS 1.3 algorithm can sign with). */
static int nodetls_cert_cb_noop(SSL *ssl, void *arg)
{
    (void)ssl; (void)arg;
    return 1;
}

void nodetls_cert_cb_install(SSL_CTX *ctx)
{
    SSL_CTX_set_cert_cb(ctx, nodetls_cert_cb_noop, NULL);
}

/* ---------------------------------------------------------------- OpenSSL's own keys, in C
   A context never given keys encrypts its tickets with OpenSSL's own per-context keys
   (name[16] | hmac[32] | aes[32], AES-256-CBC + HMAC-SHA256).  Left to itself, OpenSSL 3.0 fetches
   AES-256-CBC, the HMAC MAC and SHA256 by name for every ticket it issues or decrypts; this
   callback (the legacy HMAC_CTX form, as Node's TicketCompatibilityCallback) does the same steps
   with the keys OpenSSL would use (read with SSL_CTRL_GET_TLSEXT_TICKET_KEYS from the session
   context) and the algorithms fetched once per process.  Its tickets are the ones OpenSSL's
   built-in code makes: same key name, keys, algorithms and layout, so either decrypts the
   other's.  A ticket under the current key resumes without a new ticket (1), as Node's.
   nodetls_tk_install replaces it (the EVP callback takes precedence and clears this one). */

#include <openssl/hmac.h>

static CRYPTO_ONCE nodetls_own_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_CIPHER *nodetls_own_cipher;
static EVP_MD *nodetls_own_md;

static void nodetls_own_init(void)
{
    nodetls_own_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    nodetls_own_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int nodetls_own_cb(SSL *ssl, unsigned char *key_name, unsigned char *iv,
                          EVP_CIPHER_CTX *cctx, HMAC_CTX *hctx, int enc)
{
    SSL_CTX *ctx = SSL_get_ex_data(ssl, nodetls_tk_ssl_idx);
    unsigned char k[NODETLS_TK_LEGACY];  /* name[16] | hmac[32] | aes[32] */
    int ret;

    if (ctx == NULL)
        ctx = SSL_get_SSL_CTX(ssl);
    if (SSL_CTX_ctrl(ctx, SSL_CTRL_GET_TLSEXT_TICKET_KEYS, sizeof(k), k) != 1)
        return -1;
    if (enc) {
        memcpy(key_name, k, 16);
        ret = RAND_bytes(iv, 16) == 1
              && EVP_EncryptInit_ex(cctx, nodetls_own_cipher, NULL, k + 48, iv) == 1
              && HMAC_Init_ex(hctx, k + 16, 32, nodetls_own_md, NULL) == 1 ? 1 : -1;
    } else if (memcmp(key_name, k, 16) != 0) {
        ret = 0;  /* not our key: a full handshake */
    } else {
        ret = HMAC_Init_ex(hctx, k + 16, 32, nodetls_own_md, NULL) == 1
              && EVP_DecryptInit_ex(cctx, nodetls_own_cipher, NULL, k + 48, iv) == 1 ? 1 : -1;
    }
    OPENSSL_cleanse(k, sizeof(k));
    return ret;
}

/* Serve ctx's tickets with OpenSSL's own keys through nodetls_own_cb.  1: done; 0: not available
   (OpenSSL's built-in code keeps serving them). */
int nodetls_tk_own(SSL_CTX *ctx)
{
    if (!nodetls_tk_setup() || !CRYPTO_THREAD_run_once(&nodetls_own_once, nodetls_own_init)
            || nodetls_own_cipher == NULL || nodetls_own_md == NULL)
        return 0;
    return SSL_CTX_set_tlsext_ticket_key_cb(ctx, nodetls_own_cb) == 1;
}

/* ---------------------------------------------------------------- the session lookup, in C
   A server connection whose only 'resumeSession' listener is use_session_store's (TLSEngine.
   enable_session_path) has its client-hello and get-session callbacks answered here, without a
   Python callback: the client-hello callback decides whether an external cache can resume the
   connection (pause_points.client_hello's rules, for the ids that reach OpenSSL's get-session
   callback) and pauses the handshake with the id kept here (nodetls_sp_pending); the owner
   hands the session it found over as DER (nodetls_sp_found, parsed at once) and resumes
   (nodetls_sp_resume); the get-session callback returns it when its id is the one asked for
   (each time it is asked: twice after a HelloRetryRequest), until nodetls_sp_done.
   Every other SSL (no nodetls_sp in its ex_data) goes to the Python callbacks given to
   nodetls_sp_setup, as before.  (OpenSSL has no pending-session answer for the get-session
   callback itself: the client-hello callback is the only place a lookup can pause.) */
typedef struct {
    int state;                               /* 0: hello not seen, 1: paused, 2: decided */
    int ticket;                              /* the id is a TLS 1.3 PSK identity */
    size_t idlen;
    unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
    SSL_SESSION *found;                      /* the owner's answer, until the handshake ends */
} nodetls_sp;

static CRYPTO_ONCE nodetls_sp_once = CRYPTO_ONCE_STATIC_INIT;
static int nodetls_sp_idx = -1;
static int (*nodetls_sp_py_ch)(SSL *, int *, void *);
static SSL_SESSION *(*nodetls_sp_py_get)(SSL *, const unsigned char *, int, int *);

static void nodetls_sp_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                            long argl, void *argp)
{
    nodetls_sp *sp = ptr;
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    if (sp != NULL) {
        SSL_SESSION_free(sp->found);  /* NULL-safe */
        OPENSSL_free(sp);
    }
}

static int nodetls_sp_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d,
                          int idx, long argl, void *argp)
{
    /* SSL_dup: the copy has no session path of its own (nodetls never dups a connection). */
    (void)to; (void)from; (void)idx; (void)argl; (void)argp;
    *from_d = NULL;
    return 1;
}

static void nodetls_sp_init(void)
{
    nodetls_sp_idx = SSL_get_ex_new_index(0, NULL, NULL, nodetls_sp_dup, nodetls_sp_free);
}

/* The Python callbacks other SSLs are given to (module-level ffi.callbacks, alive for the
   process).  1: ready; 0: the session path cannot be used. */
int nodetls_sp_setup(int (*ch)(SSL *, int *, void *),
                     SSL_SESSION *(*get)(SSL *, const unsigned char *, int, int *))
{
    if (!CRYPTO_THREAD_run_once(&nodetls_sp_once, nodetls_sp_init) || nodetls_sp_idx < 0)
        return 0;
    nodetls_sp_py_ch = ch;
    nodetls_sp_py_get = get;
    return 1;
}

/* The first PSK identity, when OpenSSL's stateful TLS 1.3 lookup (tls_get_stateful_ticket)
   will look it up: a well-formed first entry inside the identities list, the list inside the
   extension, 32 bytes long (no other length is looked up), offered with a key exchange mode
   OpenSSL uses (psk_dhe_ke; psk_ke with SSL_OP_ALLOW_NO_DHE_KEX: without one it ignores the
   extension); else 0. The rules of _engine/_wire.py's _stateful_psk_id. */
static size_t nodetls_sp_psk_id(SSL *ssl, const unsigned char *p, size_t n,
                                const unsigned char **id)
{
    const unsigned char *m;
    size_t listed, len, mn, i;
    if (n < 4)
        return 0;
    listed = ((size_t)p[0] << 8) | p[1];
    len = ((size_t)p[2] << 8) | p[3];
    if (listed > n - 2 || len != SSL_MAX_SSL_SESSION_ID_LENGTH || 2 + len + 4 > listed)
        return 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk_kex_modes, &m, &mn) != 1
            || mn < 2 || m[0] != mn - 1)
        return 0;
    for (i = 1; i < mn; i++)
        if (m[i] == 1 /* psk_dhe_ke */
                || (m[i] == 0 /* psk_ke */ && (SSL_get_options(ssl) & SSL_OP_ALLOW_NO_DHE_KEX)))
            break;
    if (i == mn)
        return 0;
    *id = p + 4;
    return len;
}

/* supported_versions offers TLS 1.3: a well-formed list (a length byte, then 2-byte versions:
   any other shape fails the handshake) holding 03 04. */
static int nodetls_sp_offers_tls13(SSL *ssl)
{
    const unsigned char *p;
    size_t n, i;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &p, &n) != 1 || n < 3
            || p[0] != n - 1 || n % 2 == 0)
        return 0;
    for (i = 1; i + 1 < n; i += 2)
        if (p[i] == 0x03 && p[i + 1] == 0x04)
            return 1;
    return 0;
}

static int nodetls_sp_allows_tls13(SSL *ssl)
{
    long top = SSL_ctrl(ssl, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL);
    return (top == 0 || top >= TLS1_3_VERSION) && !(SSL_get_options(ssl) & SSL_OP_NO_TLSv1_3);
}

static int nodetls_sp_ch_cb(SSL *ssl, int *al, void *arg)
{
    nodetls_sp *sp = SSL_get_ex_data(ssl, nodetls_sp_idx);
    const unsigned char *p, *id = NULL;
    size_t n, idlen;
    int ticket = 0;
    if (sp == NULL)
        return nodetls_sp_py_ch(ssl, al, arg);
    if (sp->state == 1)
        return SSL_CLIENT_HELLO_RETRY;
    if (sp->state == 2)
        return SSL_CLIENT_HELLO_SUCCESS;
    sp->state = 2;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &p, &n) == 1
            && nodetls_sp_offers_tls13(ssl) && nodetls_sp_allows_tls13(ssl)) {
        if (!(SSL_get_options(ssl) & SSL_OP_NO_TICKET))
            return SSL_CLIENT_HELLO_SUCCESS;  /* a stateless ticket: OpenSSL decrypts it */
        idlen = nodetls_sp_psk_id(ssl, p, n, &id);
        ticket = 1;
    } else {
        /* (Also a PSK offered when TLS 1.2 will be negotiated: OpenSSL ignores it, as Node's
           lookup does.) A TLS 1.2 ticket resumes statelessly; when TLS 1.3 will be negotiated
           the legacy id is random (or a TLS 1.2 session, which 1.3 cannot resume). */
        if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_session_ticket, &p, &n) == 1 && n > 0)
            return SSL_CLIENT_HELLO_SUCCESS;
        idlen = SSL_client_hello_get0_session_id(ssl, &id);
        if (idlen && nodetls_sp_offers_tls13(ssl) && nodetls_sp_allows_tls13(ssl))
            return SSL_CLIENT_HELLO_SUCCESS;
    }
    if (idlen == 0 || idlen > sizeof(sp->id))
        return SSL_CLIENT_HELLO_SUCCESS;
    memcpy(sp->id, id, idlen);
    sp->idlen = idlen;
    sp->ticket = ticket;
    sp->state = 1;
    return SSL_CLIENT_HELLO_RETRY;
}

static SSL_SESSION *nodetls_sp_get_cb(SSL *ssl, const unsigned char *sid, int len, int *copy)
{
    nodetls_sp *sp = SSL_get_ex_data(ssl, nodetls_sp_idx);
    SSL_SESSION *sess;
    const unsigned char *own;
    unsigned int n;
    if (sp == NULL)
        return nodetls_sp_py_get(ssl, sid, len, copy);
    sess = sp->found;
    if (sess == NULL)
        return NULL;
    own = SSL_SESSION_get_id(sess, &n);
    if (len < 0 || n != (unsigned int)len || memcmp(own, sid, n) != 0) {
        /* Another session than the one asked for (a store bug, another server's session): a
           miss, where OpenSSL would try to resume with keys the client does not have. */
        SSL_SESSION_free(sess);
        sp->found = NULL;
        return NULL;
    }
    /* OpenSSL takes a reference of its own; ours stays until the handshake is done
       (nodetls_sp_done): after a HelloRetryRequest the second ClientHello's PSK is looked up
       again, as OpenSSL's own cache would answer it twice. */
    *copy = 1;
    return sess;
}

/* Install the dispatching callbacks on ctx: kinds 1, the client-hello callback; 2, the
   get-session callback. */
void nodetls_sp_install(SSL_CTX *ctx, int kinds)
{
    if (kinds & 1)
        SSL_CTX_set_client_hello_cb(ctx, nodetls_sp_ch_cb, NULL);
    if (kinds & 2)
        SSL_CTX_sess_set_get_cb(ctx, nodetls_sp_get_cb);
}

/* Give ssl the session path (a server connection, before its handshake).  1: done (or done
   already); 0: out of memory. */
int nodetls_sp_enable(SSL *ssl)
{
    nodetls_sp *sp;
    if (SSL_get_ex_data(ssl, nodetls_sp_idx) != NULL)
        return 1;
    sp = OPENSSL_zalloc(sizeof(*sp));
    if (sp == NULL)
        return 0;
    if (!SSL_set_ex_data(ssl, nodetls_sp_idx, sp)) {
        OPENSSL_free(sp);
        return 0;
    }
    return 1;
}

/* The id the handshake is paused for into out (32 bytes at least) and *ticket (a TLS 1.3
   ticket): its length, or -1 when not paused for a lookup. */
int nodetls_sp_pending(SSL *ssl, unsigned char *out, int *ticket)
{
    nodetls_sp *sp = SSL_get_ex_data(ssl, nodetls_sp_idx);
    if (sp == NULL || sp->state != 1)
        return -1;
    memcpy(out, sp->id, sp->idlen);
    *ticket = sp->ticket;
    return (int)sp->idlen;
}

/* The owner's answer: the session (DER) to resume, parsed now.  1: kept; 0: not a session (a
   full handshake follows) or no session path. */
int nodetls_sp_found(SSL *ssl, const unsigned char *der, size_t len)
{
    nodetls_sp *sp = SSL_get_ex_data(ssl, nodetls_sp_idx);
    const unsigned char *p = der;
    SSL_SESSION *sess;
    if (sp == NULL || der == NULL || len == 0 || len > LONG_MAX)
        return 0;
    sess = d2i_SSL_SESSION(NULL, &p, (long)len);
    if (sess == NULL) {
        ERR_clear_error();
        return 0;
    }
    SSL_SESSION_free(sp->found);
    sp->found = sess;
    return 1;
}

/* The handshake is done: the answer is no longer needed (an idle connection keeps none). */
void nodetls_sp_done(SSL *ssl)
{
    nodetls_sp *sp = SSL_get_ex_data(ssl, nodetls_sp_idx);
    if (sp != NULL && sp->found != NULL) {
        SSL_SESSION_free(sp->found);
        sp->found = NULL;
    }
}

/* The owner has answered: the re-invoked client-hello callback lets the handshake go on. */
void nodetls_sp_resume(SSL *ssl)
{
    nodetls_sp *sp = SSL_get_ex_data(ssl, nodetls_sp_idx);
    if (sp != NULL && sp->state == 1)
        sp->state = 2;
}
#pragma GCC diagnostic pop
"""

# Ties a compiled binding to the declarations and helpers it was built from (the loader compares).
CDEF_HASH = int(hashlib.sha256((CDEF + HELPERS + HELPERS_SOURCE).encode()).hexdigest()[:12], 16)
