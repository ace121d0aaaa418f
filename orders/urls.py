from django.urls import path

from . import views, views_returns, views_wishlist

app_name = "orders"

urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("cart/accept-prices/", views.cart_accept_prices, name="cart_accept_prices"),
    path("cart/voucher/", views.cart_voucher, name="cart_voucher"),
    path("cart/voucher/remove/", views.cart_voucher_remove, name="cart_voucher_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("gift-cards/", views.gift_cards, name="gift_cards"),
    path("gift-cards/balance/", views.gift_card_balance, name="gift_card_balance"),
    path("cart/gift-cards/remove/", views.gift_card_remove, name="gift_card_remove"),
    path("shipping/", views.shipping_rates, name="shipping"),
    path("account/orders/", views.order_history, name="history"),
    path("account/orders/guest-orders/", views.attach_guest_orders, name="attach_guest_orders"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/paid/", views.payment_return, name="paid"),
    path("orders/<str:number>/payment-cancelled/", views.payment_cancelled, name="payment_cancelled"),
    # Invoices and credit notes.
    path("orders/<str:number>/invoices/<str:document>/", views.invoice_page, name="invoice"),
    path("orders/<str:number>/invoices/<str:document>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("orders/webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
    # The wish list.
    path("wishlist/", views_wishlist.wishlist_detail, name="wishlist"),
    path("wishlist/save/", views_wishlist.wishlist_save, name="wishlist_save"),
    path("wishlist/save-from-cart/", views_wishlist.wishlist_save_from_cart, name="wishlist_save_from_cart"),
    path("wishlist/move-to-cart/", views_wishlist.wishlist_move_to_cart, name="wishlist_move_to_cart"),
    path("wishlist/remove/", views_wishlist.wishlist_delete, name="wishlist_remove"),
    # Returns.
    path("orders/<str:number>/return/", views_returns.return_open, name="return_open"),
]
