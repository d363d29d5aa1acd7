<?php
/**
 * The signature the bot checks (syndicator/sources/webhook.py): X-Syndicator-Timestamp is unix seconds,
 * X-Syndicator-Signature is "sha256=" . HMAC-SHA256(secret, "<timestamp>." . body), over the exact bytes sent.
 */

if (!defined('ABSPATH')) {
    exit;
}

function syndicator_signature($secret, $timestamp, $body)
{
    return 'sha256=' . hash_hmac('sha256', $timestamp . '.' . $body, $secret);
}

/**
 * The request for one call: [url, args] for wp_remote_post. $fields is the JSON body; a fresh nonce makes two
 * calls in the same second two calls, not a replay.
 */
function syndicator_signed_request($base_url, $secret, array $fields, $timestamp)
{
    $fields['nonce'] = wp_generate_uuid4();
    $body = wp_json_encode($fields);
    $headers = array(
        'Content-Type' => 'application/json',
        'X-Syndicator-Timestamp' => (string) $timestamp,
        'X-Syndicator-Signature' => syndicator_signature($secret, $timestamp, $body),
    );
    return array(
        rtrim($base_url, '/') . '/hooks/publish',
        array('blocking' => false, 'timeout' => 5, 'body' => $body, 'headers' => $headers),
    );
}
