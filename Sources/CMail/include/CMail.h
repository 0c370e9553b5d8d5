#ifndef PHOTOVAULT_CMAIL_H
#define PHOTOVAULT_CMAIL_H

#include <stddef.h>

/// How the SMTP connection is protected.
typedef enum {
    PV_SMTP_PLAIN = 0,     ///< no encryption (a local relay, tests)
    PV_SMTP_STARTTLS = 1,  ///< upgrade with STARTTLS, refuse to go on without it
    PV_SMTP_TLS = 2        ///< TLS from the first byte (smtps://)
} pv_smtp_security;

/// Sends one RFC 5322 message through libcurl's SMTP client.
///
/// Plain C types only, so Swift never sees curl's variadic API. Returns 0 on success;
/// otherwise a non-zero curl code with a sentence in `error` (always NUL-terminated).
int pv_smtp_send(const char *url, const char *username, const char *password,
                 pv_smtp_security security, const char *ca_file,
                 const char *from, const char *const *recipients, size_t recipient_count,
                 const char *message, size_t message_length, long timeout_seconds,
                 char *error, size_t error_length);

#endif
