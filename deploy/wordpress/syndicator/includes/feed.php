<?php
/**
 * The panel's "don't post" and "not on" choices also travel in the RSS feed, as the tags the bot reads on any
 * feed (`no-social`, `social-skip-<platform>`): a bot that only polls, or a webhook call that was lost, still
 * keeps the post where the editor wanted it.
 */

if (!defined('ABSPATH')) {
    exit;
}

function syndicator_feed_item()
{
    $post_id = get_the_ID();
    if (!$post_id) {
        return;
    }
    $choices = syndicator_choices($post_id);
    $tags = array();
    if ($choices['syndicator_no_social']) {
        $tags[] = 'no-social';
    }
    foreach (array_keys(syndicator_platforms()) as $platform) {
        if ($choices['syndicator_skip_' . $platform]) {
            $tags[] = 'social-skip-' . $platform;
        }
    }
    foreach ($tags as $tag) {
        echo '<category><![CDATA[' . esc_html($tag) . ']]></category>' . "\n";
    }
}
