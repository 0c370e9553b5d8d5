#include "CMail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *data;
    size_t remaining;
} pv_upload;

static size_t pv_read(char *buffer, size_t size, size_t count, void *user) {
    pv_upload *upload = user;
    size_t room = size * count;
    size_t n = upload->remaining < room ? upload->remaining : room;
    memcpy(buffer, upload->data, n);
    upload->data += n;
    upload->remaining -= n;
    return n;
}

static pthread_once_t pv_curl_once = PTHREAD_ONCE_INIT;
static void pv_curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int pv_smtp_send(const char *url, const char *username, const char *password,
                 pv_smtp_security security, const char *ca_file,
                 const char *from, const char *const *recipients, size_t recipient_count,
                 const char *message, size_t message_length, long timeout_seconds,
                 char *error, size_t error_length) {
    pthread_once(&pv_curl_once, pv_curl_init);
    if (error_length > 0) error[0] = '\0';
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(error, error_length, "libcurl could not start a session");
        return -1;
    }
    char curl_error[CURL_ERROR_SIZE] = {0};
    struct curl_slist *to = NULL;
    for (size_t i = 0; i < recipient_count; i++) to = curl_slist_append(to, recipients[i]);
    pv_upload upload = {message, message_length};

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (username && *username) curl_easy_setopt(curl, CURLOPT_USERNAME, username);
    if (password && *password) curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
    if (security != PV_SMTP_PLAIN) curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (ca_file && *ca_file) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, to);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, pv_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);

    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        snprintf(error, error_length, "%s%s%s", curl_easy_strerror(code), curl_error[0] ? ": " : "", curl_error);
    }
    curl_slist_free_all(to);
    curl_easy_cleanup(curl);
    return (int)code;
}
