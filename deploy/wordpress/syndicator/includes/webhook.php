<?php
/**
 * Publish, update and unpublish reach the bot at once. wp_after_insert_post runs after the post's meta and terms
 * are saved (classic editor and block editor alike), so the call carries the choices just made.
 */

if (!defined('ABSPATH')) {
    exit;
}

function syndicator_configured()
{
    return defined('SYNDICATOR_URL') && defined('SYNDICATOR_SECRET') && defined('SYNDICATOR_FEED');
}

function syndicator_after_insert_post($post_id, $post, $update, $post_before)
{
    if (!$post || $post->post_type !== 'post' || wp_is_post_revision($post_id) || wp_is_post_autosave($post_id)) {
        return;
    }
    $was_public = $post_before && $post_before->post_status === 'publish';
    if ($post->post_status !== 'publish' && !$was_public) {
        return; // a draft saved again: nothing the bot has seen
    }
    syndicator_notify($post, $post->post_status);
}

function syndicator_before_delete_post($post_id, $post = null)
{
    $post = $post ? $post : get_post($post_id);
    if ($post && $post->post_type === 'post' && in_array($post->post_status, array('publish', 'trash'), true)) {
        syndicator_notify($post, 'deleted');
    }
}

function syndicator_notify($post, $status)
{
    if (!syndicator_configured()) {
        return;
    }
    $fields = array(
        'feed' => SYNDICATOR_FEED,
        'post_id' => (int) $post->ID,
        'status' => $status,
        'url' => get_permalink($post),
        'meta' => syndicator_choices($post->ID),
    );
    list($url, $args) = syndicator_signed_request(SYNDICATOR_URL, SYNDICATOR_SECRET, $fields, time());
    wp_remote_post($url, $args);
}
