<?php
/**
 * Plugin Name:       Syndicator
 * Description:       Tells the Syndicator bot when a post is published, updated or unpublished (a signed webhook), and gives editors a panel to keep a post off social media, off one platform, or to write its social text.
 * Version:           1.0.0
 * Requires at least: 5.6
 * Requires PHP:      7.4
 * License:           MIT
 *
 * Configure in wp-config.php:
 *   define('SYNDICATOR_URL', 'https://syndicator.example.org');  // the bot's public base URL
 *   define('SYNDICATOR_SECRET', '...');                           // the bot's [webhook] secret (16+ characters)
 *   define('SYNDICATOR_FEED', 'en');                              // the bot's feed name for this site
 */

if (!defined('ABSPATH')) {
    exit; // only ever loaded by WordPress (or the tests, which define ABSPATH)
}

define('SYNDICATOR_PLUGIN_FILE', __FILE__);

require_once __DIR__ . '/includes/signing.php';
require_once __DIR__ . '/includes/choices.php';
require_once __DIR__ . '/includes/webhook.php';
require_once __DIR__ . '/includes/panel.php';
require_once __DIR__ . '/includes/feed.php';

add_action('init', 'syndicator_register_meta');
add_action('wp_after_insert_post', 'syndicator_after_insert_post', 10, 4);
add_action('before_delete_post', 'syndicator_before_delete_post', 10, 2);
add_action('add_meta_boxes', 'syndicator_add_panel');
add_action('enqueue_block_editor_assets', 'syndicator_enqueue_sidebar');
add_action('save_post', 'syndicator_save_panel', 10, 2);
add_action('rss2_item', 'syndicator_feed_item');
